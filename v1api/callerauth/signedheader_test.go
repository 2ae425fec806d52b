package callerauth

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleHeader = "POST requestor_id=REF30, nonce=0c5e2ba2-6b0c-4d42-9c67-9f1f8a3f0e11, signature_method=HMAC-SHA1, " +
	"request_time=1750000000000, request_uri=/reggie/v1/REF30/regcode, public_key=pub, signature=c2ln"

func TestParseSignedHeader(t *testing.T) {
	good := SignedHeader{
		Method: "POST", RequestorID: "REF30", Nonce: "0c5e2ba2-6b0c-4d42-9c67-9f1f8a3f0e11", SignatureMethod: "HMAC-SHA1",
		RequestTime: 1750000000000, RequestURI: "/reggie/v1/REF30/regcode", PublicKey: "pub", Signature: "c2ln",
		Signed: sampleHeader[:strings.Index(sampleHeader, ", public_key=")],
	}
	tests := []struct {
		name    string
		in      string
		want    *SignedHeader
		notOurs bool
	}{
		{name: "deployed client form", in: sampleHeader, want: &good},
		{name: "short request_uri", in: strings.Replace(sampleHeader, "/reggie/v1/REF30/regcode", "/regcode", 1),
			want: func() *SignedHeader {
				h := good
				h.RequestURI = "/regcode"
				h.Signed = strings.Replace(h.Signed, "/reggie/v1/REF30/regcode", "/regcode", 1)
				return &h
			}()},
		{name: "bearer", in: "Bearer abc", notOurs: true},
		{name: "basic", in: "Basic czZCaGRSa3F0Mzo=", notOurs: true},
		{name: "no space", in: "requestor_id=REF30", notOurs: true},
		{name: "no public key", in: "GET requestor_id=REF30, nonce=n, signature_method=HMAC-SHA1, request_time=1, request_uri=/x"},
		{name: "no nonce", in: "GET requestor_id=REF30, signature_method=HMAC-SHA1, request_time=1, request_uri=/x, public_key=p, signature=s"},
		{name: "request_time not a number", in: strings.Replace(sampleHeader, "request_time=1750000000000", "request_time=yesterday", 1)},
		{name: "negative request_time", in: strings.Replace(sampleHeader, "request_time=1750000000000", "request_time=-5", 1)},
		{name: "nonce after public_key is unsigned", in: "GET requestor_id=REF30, signature_method=HMAC-SHA1, request_time=1, request_uri=/x, public_key=p, signature=s, nonce=n"},
		{name: "requestor repeated", in: "GET requestor_id=REF30, requestor_id=OTHER, nonce=n, signature_method=HMAC-SHA1, request_time=1, public_key=p, signature=s"},
		{name: "field without =", in: "GET requestor_id=REF30, nonce, signature_method=HMAC-SHA1, request_time=1, public_key=p, signature=s"},
		{name: "method not a word", in: "G/T requestor_id=REF30, nonce=n, signature_method=HMAC-SHA1, request_time=1, public_key=p, signature=s"},
		{name: "empty signature", in: strings.Replace(sampleHeader, "signature=c2ln", "signature=", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSignedHeader(tt.in)
			switch {
			case tt.notOurs:
				if !errors.Is(err, ErrNotSignedHeader) {
					t.Fatalf("error %v, want ErrNotSignedHeader", err)
				}
			case tt.want == nil:
				if err == nil || errors.Is(err, ErrNotSignedHeader) {
					t.Fatalf("error %v, want a parse error", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(*tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	key := []byte("private")
	h, err := ParseSignedHeader(SignHeader("GET", "REF30", "n1", 1750000000000, "/api/v1/authorize", "pub", key))
	if err != nil {
		t.Fatal(err)
	}
	if !h.VerifySignature(key) {
		t.Fatal("own signature refused")
	}
	for name, mutate := range map[string]func(SignedHeader) SignedHeader{
		"other key":          func(h SignedHeader) SignedHeader { return h },
		"signed text edited": func(h SignedHeader) SignedHeader { h.Signed = strings.Replace(h.Signed, "n1", "n2", 1); return h },
		"other method":       func(h SignedHeader) SignedHeader { h.SignatureMethod = "HMAC-SHA256"; return h },
		"not base64":         func(h SignedHeader) SignedHeader { h.Signature = "***"; return h },
	} {
		k := key
		if name == "other key" {
			k = []byte("other")
		}
		if mutate(h).VerifySignature(k) {
			t.Errorf("%s: verified", name)
		}
	}
}

// FuzzParseSignedHeader: the parser never panics, and whatever it accepts
// is self-consistent: the signed text is a prefix of the input that ends
// right before ", public_key=", and it carries every signed field.
func FuzzParseSignedHeader(f *testing.F) {
	f.Add(sampleHeader)
	f.Add(SignHeader("GET", "REF30", "n", 1, "/authorize", "p", []byte("k")))
	f.Add("GET requestor_id=REF30, nonce=n, signature_method=HMAC-SHA1, request_time=1, request_uri=/x, public_key=p, signature=s, nonce=m")
	f.Add("Bearer pt1.k1.1.2.3.4")
	f.Add("GET requestor_id=, public_key=")
	f.Add("GET requestor_id=a=b, nonce=, public_key=, signature=")
	f.Add(", public_key=requestor_id=")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseSignedHeader(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(in, h.Signed) || !strings.HasPrefix(in[len(h.Signed):], ", public_key=") {
			t.Fatalf("signed text %q is not the input before public_key", h.Signed)
		}
		for _, f := range []string{"requestor_id=" + h.RequestorID, "nonce=" + h.Nonce, "signature_method=" + h.SignatureMethod} {
			if !strings.Contains(h.Signed, f) {
				t.Fatalf("field %q outside the signed text %q", f, h.Signed)
			}
		}
		if h.RequestorID == "" || h.Nonce == "" || h.PublicKey == "" || h.Signature == "" || h.RequestTime < 0 {
			t.Fatalf("accepted with a required field missing: %+v", h)
		}
	})
}
