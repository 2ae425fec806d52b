package translate

import "sync"

// recentSize bounds each of the two generations of a recent cache.
const recentSize = 1024

// recent keeps values for recently seen keys, for the per-process caches of
// per-device work that every call of a device would otherwise repeat.
//
// It holds at most two generations of recentSize entries: when the current
// one is full it becomes the previous one and the oldest is dropped, so the
// keys seen in the last few thousand distinct ones stay cached. The zero
// value is ready to use; values are shared by every caller and must not be
// modified.
type recent[V any] struct {
	mu       sync.Mutex
	cur, old map[string]V
}

// get returns the value of key. The key is looked up without converting it
// to a string, so a caller can build it in a buffer on its stack.
func (c *recent[V]) get(key []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[string(key)]; ok {
		return v, true
	}
	if v, ok := c.old[string(key)]; ok {
		c.putLocked(string(key), v)
		return v, true
	}
	var zero V
	return zero, false
}

// getString is get for a key that is a string already.
func (c *recent[V]) getString(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[key]; ok {
		return v, true
	}
	if v, ok := c.old[key]; ok {
		c.putLocked(key, v)
		return v, true
	}
	var zero V
	return zero, false
}

func (c *recent[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, v)
}

func (c *recent[V]) putLocked(key string, v V) {
	if len(c.cur) >= recentSize {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]V, recentSize)
	}
	c.cur[key] = v
}

// len returns the number of entries held.
func (c *recent[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
