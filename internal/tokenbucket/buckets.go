package tokenbucket

import (
	"container/list"
	"sync"
	"time"
)

// Buckets keeps one Bucket per key in process memory.
//
// Memory is bounded: a bucket idle for IdleTimeout is forgotten (see
// Bucket.Idle), and beyond MaxKeys buckets the least recently used goes. A
// forgotten key that returns gets a fresh burst; after that much idleness its
// allowance has caught up anyway, so only the burst is granted anew.
//
// The zero value is ready to use. Do not change its fields once in use.
type Buckets[K comparable] struct {
	// Now is the clock of requests that carry no time; nil means time.Now.
	Now func() time.Time
	// IdleTimeout forgets buckets unused that long; zero means
	// DefaultIdle.
	IdleTimeout time.Duration
	// MaxKeys bounds the buckets held; zero means DefaultMaxKeys.
	MaxKeys int

	mu  sync.Mutex
	m   map[K]*list.Element
	lru list.List // of *entry[K], most recently used first
}

type entry[K comparable] struct {
	key  K
	b    Bucket
	seen time.Time
}

// Apply makes the decision r asks of key's bucket (r.Now zero: the Buckets'
// clock). A Check of a key without a bucket makes none.
func (s *Buckets[K]) Apply(key K, r Request) Decision {
	if r.Now.IsZero() {
		r.Now = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evict(r.Now)
	el, ok := s.m[key]
	if !ok {
		if r.Op == Check {
			return Decision{OK: true}
		}
		if s.m == nil {
			s.m = make(map[K]*list.Element)
		}
		el = s.lru.PushFront(&entry[K]{key: key})
		s.m[key] = el
		s.trim()
	} else {
		s.lru.MoveToFront(el)
	}
	e := el.Value.(*entry[K])
	e.seen = r.Now
	return e.b.Apply(r)
}

// Get returns key's bucket, and whether one is held.
func (s *Buckets[K]) Get(key K) (Bucket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[key]
	if !ok {
		return Bucket{}, false
	}
	return el.Value.(*entry[K]).b, true
}

// Len is the number of buckets held.
func (s *Buckets[K]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// Reset forgets every bucket.
func (s *Buckets[K]) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = nil
	s.lru.Init()
}

func (s *Buckets[K]) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// evict forgets the idle buckets at the tail: the list is in use order, so
// only its tail needs looking at. s.mu is held.
func (s *Buckets[K]) evict(now time.Time) {
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdle
	}
	for el := s.lru.Back(); el != nil; el = s.lru.Back() {
		e := el.Value.(*entry[K])
		if !e.b.Idle(now, e.seen, idle) {
			return
		}
		s.lru.Remove(el)
		delete(s.m, e.key)
	}
}

// trim drops the least recently used beyond MaxKeys. s.mu is held.
func (s *Buckets[K]) trim() {
	limit := s.MaxKeys
	if limit <= 0 {
		limit = DefaultMaxKeys
	}
	for s.lru.Len() > limit {
		el := s.lru.Back()
		s.lru.Remove(el)
		delete(s.m, el.Value.(*entry[K]).key)
	}
}
