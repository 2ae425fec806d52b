package callerauth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzQueryValue: queryValue reads a parameter exactly as
// u.Query().Get does, broken escapes, semicolons and repeats included.
func FuzzQueryValue(f *testing.F) {
	for _, q := range []string{
		"", "access_token=t1", "a=1&access_token=t%2B1&access_token=t2", "access_token=%zz&access_token=ok",
		"access%5Ftoken=enc", "access_token=a;b&access_token=c", "access_token", "&&access_token=&access_token=x",
		"access_token=a+b", "%zz=1&access_token=y", strings.Repeat("x=1&", 1200) + "access_token=many",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u := &url.URL{RawQuery: raw}
		if got, want := queryValue(u, "access_token"), u.Query().Get("access_token"); got != want {
			t.Errorf("queryValue(%q) = %q, want %q", raw, got, want)
		}
	})
}
