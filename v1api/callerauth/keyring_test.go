package callerauth

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewKeyRingValidation(t *testing.T) {
	good := testKey(t, "k1")
	for _, tt := range []struct {
		name     string
		current  Key
		previous []Key
	}{
		{"empty id", Key{Secret: good.Secret}, nil},
		{"id with a dot", Key{ID: "k.1", Secret: good.Secret}, nil},
		{"id too long", Key{ID: strings.Repeat("k", 17), Secret: good.Secret}, nil},
		{"short secret", Key{ID: "k1", Secret: []byte("short")}, nil},
		{"duplicate id", good, []Key{{ID: "k1", Secret: bytes.Repeat([]byte("x"), 32)}}},
		{"bad previous", good, []Key{{ID: "k2"}}},
	} {
		if _, err := NewKeyRing(tt.current, tt.previous...); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := NewKeyRing(good, testKey(t, "k2")); err != nil {
		t.Errorf("valid ring refused: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	secret := bytes.Repeat([]byte{0xfb}, 32)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		k, err := ParseKey("k7:" + enc.EncodeToString(secret))
		if err != nil || k.ID != "k7" || !bytes.Equal(k.Secret, secret) {
			t.Errorf("ParseKey with %v: %v, %v", enc, k, err)
		}
	}
	for _, in := range []string{"nocolon", "k7:!!!not-base64-SECRETVALUE", "k7:" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := ParseKey(in)
		if err == nil {
			t.Errorf("ParseKey(%q) accepted", in)
		} else if strings.Contains(err.Error(), "SECRETVALUE") {
			t.Errorf("ParseKey error quotes the secret: %v", err)
		}
	}
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey("k1", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey("k1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Secret) != 32 || bytes.Equal(a.Secret, b.Secret) {
		t.Errorf("generated secrets: %d bytes, equal=%v", len(a.Secret), bytes.Equal(a.Secret, b.Secret))
	}
}

// TestKeysNeverPrinted: formatting or logging a Key or KeyRing shows the
// id, never the secret.
func TestKeysNeverPrinted(t *testing.T) {
	k := Key{ID: "k1", Secret: []byte("SUPERSECRETSUPERSECRET")}
	kr, err := NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("keys", "key", k, "ring", kr)
	l.Info("keys", slog.Any("key", k), slog.Any("ring", kr))
	out := logs.String()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		out += fmt.Sprintf(verb, k) + fmt.Sprintf(verb, kr) + fmt.Sprintf(verb, []Key{k}) + fmt.Sprintf(verb, &k)
	}
	forms := []string{string(k.Secret), fmt.Sprintf("%x", k.Secret), fmt.Sprint(k.Secret), base64.StdEncoding.EncodeToString(k.Secret), "83 85 80"}
	for _, f := range forms {
		if strings.Contains(out, f) {
			t.Errorf("secret (as %q) printed in %s", f, out)
		}
	}
	if !strings.Contains(out, "k1") {
		t.Errorf("key id not shown: %s", out)
	}
}
