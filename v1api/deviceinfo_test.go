package v1api

import (
	"encoding/base64"
	"net/url"
	"testing"
)

func TestDecodeDeviceInfo(t *testing.T) {
	const obj = `{"model":"Roku 4","osName":"Roku OS","x":"?>?"}`
	std := base64.StdEncoding.EncodeToString([]byte(obj))
	raw := base64.RawURLEncoding.EncodeToString([]byte(obj))
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"standard padded", std, obj, false},
		{"URL-safe unpadded", raw, obj, false},
		{"URL-encoded standard", url.QueryEscape(std), obj, false},
		{"plus turned into space by query decoding", spaceForPlus(base64.StdEncoding.EncodeToString([]byte(`{"k":"\u00fe\u00ff>"}`))), `{"k":"\u00fe\u00ff>"}`, false},
		{"line-wrapped", std[:10] + "\r\n" + std[10:], obj, false},
		{"surrounding JSON whitespace trimmed", base64.StdEncoding.EncodeToString([]byte(" \n{}\n")), `{}`, false},
		{"not Base64", "***", "", true},
		{"Base64 of text", base64.StdEncoding.EncodeToString([]byte("hello")), "", true},
		{"Base64 of a JSON array", base64.StdEncoding.EncodeToString([]byte(`[1]`)), "", true},
		{"Base64 of broken JSON (DCR doc sample)", "ewoJInByaW1hcnlIYXJkd2FyZVR5cGUiOiAiU2V0VG9wQm94IiwKCSJtb2RlbCI6ICJUViA1dGggR2VuIiwKCSJtYW51ZmFjdHVyZXIiOiAiQXBwbGUiLAoJIm9zTmFtZSI6ICJ0dk9TIgoJIm9zVmVuZG9yIjogIkFwcGxlIiwKCSJvc1ZlcnNpb24iOiAiMTEuMCIKfQ==", "", true},
		{"bad escape", "%zz", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := decodeDeviceInfo(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func spaceForPlus(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '+' {
			b[i] = ' '
		}
	}
	return string(b)
}
