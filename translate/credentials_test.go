package translate

import (
	"context"
	"testing"
	"time"

	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/v2client"
)

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	c := Credentials{Store: store.NewMemory(clock.Now), Now: clock.Now}
	if _, ok, err := c.LoadCredentials(ctx, "REF30"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	cred := v2client.ClientCredentials{ClientID: "id", ClientSecret: "secret"}
	if err := c.SaveCredentials(ctx, "REF30", cred); err != nil {
		t.Fatal(err)
	}
	tok := v2client.AccessToken{AccessToken: "tok", CreatedAt: clock.Now().UnixMilli(), ExpiresIn: 3600}
	if err := c.SaveToken(ctx, "REF30", tok); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if got, ok, err := c.LoadToken(ctx, "REF30"); !ok || err != nil || got.AccessToken != "tok" {
		t.Fatalf("LoadToken = %+v, %v, %v", got, ok, err)
	}
	clock.Advance(time.Minute)
	if _, ok, _ := c.LoadToken(ctx, "REF30"); ok {
		t.Error("an expired access token is still served")
	}
	clock.Advance(1000 * time.Hour)
	if got, ok, err := c.LoadCredentials(ctx, "REF30"); !ok || err != nil || got.ClientSecret != "secret" {
		t.Fatalf("credentials must be kept for ever: %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := c.LoadCredentials(ctx, "OTHER"); ok {
		t.Error("credentials leaked across service providers")
	}
}
