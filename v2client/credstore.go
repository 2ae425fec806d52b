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
