package v2client

import (
	"context"
	"sync"
)

// CredentialStore persists the gateway's own DCR client credentials and
// access tokens, keyed by service provider. Credentials must survive restarts
// (losing them logs every device out); sharing the store lets several gateway
// instances use one registration. Load methods report ok=false, with a nil
// error, when nothing is stored.
type CredentialStore interface {
	LoadCredentials(ctx context.Context, sp string) (cred ClientCredentials, ok bool, err error)
	SaveCredentials(ctx context.Context, sp string, cred ClientCredentials) error
	LoadToken(ctx context.Context, sp string) (tok AccessToken, ok bool, err error)
	SaveToken(ctx context.Context, sp string, tok AccessToken) error
}

// CredentialLocker is implemented by a CredentialStore that several gateway
// instances share. A per-process lock cannot keep two instances from
// registering at the same moment on an empty store, which leaves them with
// different client registrations — and v2 binds profiles to the
// registration, so devices moving between the instances would lose their
// logins. TokenSource takes this lock around registration and token
// refresh, and re-reads the store once it holds it.
type CredentialLocker interface {
	// LockCredentials waits until the caller holds the credential lock of
	// sp, or until ctx ends (the error then wraps ctx.Err()). unlock
	// releases it and may be called once. The lock must free itself if its
	// holder dies without unlocking (a lease).
	LockCredentials(ctx context.Context, sp string) (unlock func(), err error)
}

// CredentialAdder is implemented by a CredentialStore that can store
// credentials only where none are stored, in one step against every other
// writer. TokenSource.KeepStored writes back the credentials it holds with
// it, so that a write-back never overwrites credentials another instance
// registered meanwhile. Without it, KeepStored loads and then saves.
type CredentialAdder interface {
	// AddCredentials stores cred for sp unless credentials are stored
	// already, and reports whether it stored.
	AddCredentials(ctx context.Context, sp string, cred ClientCredentials) (added bool, err error)
}

// MemoryStore is a process-local CredentialStore. The zero value is ready to
// use.
type MemoryStore struct {
	mu     sync.Mutex
	creds  map[string]ClientCredentials
	tokens map[string]AccessToken
}

// LoadCredentials implements CredentialStore.
func (m *MemoryStore) LoadCredentials(_ context.Context, sp string) (ClientCredentials, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.creds[sp]
	return c, ok, nil
}

// SaveCredentials implements CredentialStore.
func (m *MemoryStore) SaveCredentials(_ context.Context, sp string, cred ClientCredentials) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.creds == nil {
		m.creds = map[string]ClientCredentials{}
	}
	m.creds[sp] = cred
	return nil
}

// AddCredentials implements CredentialAdder.
func (m *MemoryStore) AddCredentials(_ context.Context, sp string, cred ClientCredentials) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.creds[sp]; ok {
		return false, nil
	}
	if m.creds == nil {
		m.creds = map[string]ClientCredentials{}
	}
	m.creds[sp] = cred
	return true, nil
}

// LoadToken implements CredentialStore.
func (m *MemoryStore) LoadToken(_ context.Context, sp string) (AccessToken, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[sp]
	return t, ok, nil
}

// SaveToken implements CredentialStore.
func (m *MemoryStore) SaveToken(_ context.Context, sp string, tok AccessToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[string]AccessToken{}
	}
	m.tokens[sp] = tok
	return nil
}
