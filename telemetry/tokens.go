package telemetry

import (
	"context"
	"crypto/sha256"
	"sync"

	"github.com/passgw/passgw/v2client"
)

// Tokens instruments p, the gateway's v2 token provider: each new access
// token taken into use counts in passgw_v2_token_refreshes_total, with
// reason "rejected" when v2 answered 401 to the previous one and "expired"
// when the provider replaced it on its own (expiry, or another instance
// sharing the store renewed it). The first token of a service provider in
// this process is not a refresh. Only digests of tokens are kept.
func (m *Metrics) Tokens(p v2client.TokenProvider) v2client.TokenProvider {
	return &countingTokens{next: p, m: m, last: map[string][sha256.Size]byte{}}
}

type countingTokens struct {
	next v2client.TokenProvider
	m    *Metrics

	mu   sync.Mutex
	last map[string][sha256.Size]byte
}

// observe records tok as sp's current token, counting a refresh with
// reason when it replaces another one.
func (c *countingTokens) observe(sp, tok, reason string) {
	sum := sha256.Sum256([]byte(tok))
	c.mu.Lock()
	prev, seen := c.last[sp]
	c.last[sp] = sum
	c.mu.Unlock()
	if !seen {
		c.m.tokenSeen(sp)
	}
	if seen && prev != sum {
		c.m.TokenRefresh(sp, reason)
	}
}

// AccessToken implements v2client.TokenProvider.
func (c *countingTokens) AccessToken(ctx context.Context, sp string) (string, error) {
	tok, err := c.next.AccessToken(ctx, sp)
	c.failed(ctx, sp, err)
	if err == nil {
		c.observe(sp, tok, "expired")
	}
	return tok, err
}

// RefreshToken implements v2client.TokenProvider.
func (c *countingTokens) RefreshToken(ctx context.Context, sp, rejected string) (string, error) {
	tok, err := c.next.RefreshToken(ctx, sp, rejected)
	c.failed(ctx, sp, err)
	if err == nil {
		c.observe(sp, tok, "rejected")
	}
	return tok, err
}

// failed counts err, unless there is none or the caller gave up (which
// says nothing of the credentials).
func (c *countingTokens) failed(ctx context.Context, sp string, err error) {
	if err != nil && ctx.Err() == nil {
		c.m.TokenError(sp)
	}
}
