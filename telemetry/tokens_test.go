package telemetry

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/passgw/passgw/internal/testenv"
)

// rotatingTokens answers token n for a service provider until told to move
// on, the way a token source replaces an expiring token.
type rotatingTokens struct {
	n     map[string]int
	fails bool
}

func (r *rotatingTokens) AccessToken(_ context.Context, sp string) (string, error) {
	return fmt.Sprintf("%s-token-%d", sp, r.n[sp]), nil
}

func (r *rotatingTokens) RefreshToken(_ context.Context, sp, _ string) (string, error) {
	if r.fails {
		return "", errors.New("dcr down")
	}
	r.n[sp]++
	return fmt.Sprintf("%s-token-%d", sp, r.n[sp]), nil
}

func TestTokensCountsRefreshes(t *testing.T) {
	m := NewMetrics("test")
	src := &rotatingTokens{n: map[string]int{}}
	tp := m.Tokens(src)
	ctx := context.Background()
	use := func(sp string) {
		if _, err := tp.AccessToken(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}

	use("REF30") // first token: not a refresh
	use("REF30") // same token
	use("OTHER")
	if _, err := tp.RefreshToken(ctx, "REF30", "REF30-token-0"); err != nil { // v2 said 401
		t.Fatal(err)
	}
	use("REF30") // the refreshed token, already counted
	src.n["REF30"]++
	use("REF30") // replaced by the source on its own: expired
	src.fails = true
	if _, err := tp.RefreshToken(ctx, "OTHER", "OTHER-token-0"); err == nil {
		t.Fatal("failed refresh answered no error")
	}

	got := scrape(t, m)
	for key, want := range map[string]float64{
		testenv.MetricSeries("passgw_v2_token_refreshes_total", map[string]string{"service_provider": "REF30", "reason": "rejected"}): 1,
		testenv.MetricSeries("passgw_v2_token_refreshes_total", map[string]string{"service_provider": "REF30", "reason": "expired"}):  1,
		testenv.MetricSeries("passgw_v2_token_refreshes_total", map[string]string{"service_provider": "OTHER", "reason": "rejected"}): 0,
		testenv.MetricSeries("passgw_v2_token_refreshes_total", map[string]string{"service_provider": "OTHER", "reason": "expired"}):  0,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}
