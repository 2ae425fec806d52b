package golden

import "testing"

func TestRegistrationCode(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"json", `{"id":"1","code":"ABC1234","requestor":"REF30"}`, "ABC1234"},
		{"xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:regcode xmlns:ns2="u"><id>1</id><code>XYZ9876</code></ns2:regcode>`, "XYZ9876"},
		{"xml without a code", `<error><status>404</status></error>`, ""},
		{"neither", `not a body`, ""},
	}
	for _, tt := range tests {
		if got := RegistrationCode(Response{Body: []byte(tt.body)}); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
