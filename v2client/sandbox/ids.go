package sandbox

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
)

// IDGenerator makes the identifiers the sandbox hands out: authentication
// codes, session ids, client credentials, access tokens, traces and the
// sandbox's signing key. Implementations must be safe for concurrent use.
type IDGenerator interface {
	// Code returns an authentication code: 7 characters of [A-Z0-9].
	Code() string
	// UUID returns a version-4 style UUID string.
	UUID() string
	// Token returns n random bytes for secrets and signing keys.
	Token(n int) []byte
}

// RandomIDs returns a generator seeded from crypto/rand: the default.
func RandomIDs() IDGenerator {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return &seededIDs{r: rand.New(rand.NewChaCha8(seed))}
}

// DeterministicIDs returns a generator whose sequence depends only on seed,
// so golden files recorded against the sandbox are stable. Secrets it makes
// are predictable: use it only in tests.
func DeterministicIDs(seed uint64) IDGenerator {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return &seededIDs{r: rand.New(rand.NewChaCha8(s))}
}

type seededIDs struct {
	mu sync.Mutex
	r  *rand.Rand
}

const codeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (g *seededIDs) Code() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := make([]byte, 7)
	for i := range b {
		b[i] = codeAlphabet[g.r.IntN(len(codeAlphabet))]
	}
	return string(b)
}

func (g *seededIDs) UUID() string {
	u, _ := uuid.NewRandomFromReader(bytes.NewReader(g.Token(16))) // 16 bytes: never fails
	return u.String()
}

func (g *seededIDs) Token(n int) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}
