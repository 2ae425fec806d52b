package callerauth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SignedHeader is the pre-DCR Authorization header:
//
//	<METHOD> requestor_id=<id>, nonce=<uuid>, signature_method=HMAC-SHA1, request_time=<epoch ms>, request_uri=<path>, public_key=<key>, signature=<base64>
type SignedHeader struct {
	Method          string
	RequestorID     string
	Nonce           string
	SignatureMethod string
	// RequestTime is epoch milliseconds.
	RequestTime int64
	// RequestURI is informational: clients disagree on its form, so it is
	// never checked.
	RequestURI string
	PublicKey  string
	Signature  string
	// Signed is the text the signature covers: the header up to ", public_key=".
	Signed string
}

// ErrNotSignedHeader reports an Authorization value that is not a signed
// header at all (another scheme), as opposed to a broken one.
var ErrNotSignedHeader = errors.New("callerauth: not a signed header")

const (
	publicKeySep        = ", public_key="
	signatureMethodSHA1 = "HMAC-SHA1"
	maxSignedHeaderLen  = 4096
)

// ParseSignedHeader reads a signed header. Every field that matters
// (requestor_id, nonce, signature_method, request_time) must sit before
// ", public_key=", where the signature covers it; after it come exactly
// public_key and signature. A value without a requestor_id field is
// ErrNotSignedHeader; any other defect is a plain error.
func ParseSignedHeader(s string) (SignedHeader, error) {
	method, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.Contains(rest, "requestor_id=") || strings.EqualFold(method, "Bearer") {
		return SignedHeader{}, ErrNotSignedHeader
	}
	if len(s) > maxSignedHeaderLen {
		return SignedHeader{}, errors.New("signed header too long")
	}
	if !isToken(method) {
		return SignedHeader{}, errors.New("signed header method is not a word")
	}
	cut := strings.Index(s, publicKeySep)
	if cut < 0 {
		return SignedHeader{}, errors.New("signed header has no public_key")
	}
	h := SignedHeader{Method: method, Signed: s[:cut]}
	signed, err := fields(s[len(method)+1 : cut])
	if err != nil {
		return SignedHeader{}, err
	}
	unsigned, err := fields(s[cut+2:])
	if err != nil {
		return SignedHeader{}, err
	}
	if len(unsigned) != 2 || unsigned["public_key"] == "" || unsigned["signature"] == "" {
		return SignedHeader{}, errors.New("signed header: only public_key and signature may follow the signed part")
	}
	h.PublicKey, h.Signature = unsigned["public_key"], unsigned["signature"]
	h.RequestorID, h.Nonce = signed["requestor_id"], signed["nonce"]
	h.SignatureMethod, h.RequestURI = signed["signature_method"], signed["request_uri"]
	if h.RequestorID == "" || h.Nonce == "" || h.SignatureMethod == "" || signed["request_time"] == "" {
		return SignedHeader{}, errors.New("signed header: requestor_id, nonce, signature_method and request_time are required")
	}
	if h.RequestTime, err = strconv.ParseInt(signed["request_time"], 10, 64); err != nil || h.RequestTime < 0 {
		return SignedHeader{}, errors.New("signed header: request_time is not epoch milliseconds")
	}
	return h, nil
}

// fields splits "a=1, b=2" on ", " and then the first '='. Names repeat
// at most once, so a later field cannot shadow a signed one.
func fields(s string) (map[string]string, error) {
	out := make(map[string]string)
	for _, f := range strings.Split(s, ", ") {
		name, value, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("signed header: field %d is not name=value", len(out))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("signed header: field %q repeated", name)
		}
		out[name] = value
	}
	return out, nil
}

func isToken(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// VerifySignature reports whether the header's signature is
// Base64(HMAC-SHA1(key, Signed)), in constant time.
func (h SignedHeader) VerifySignature(key []byte) bool {
	if h.SignatureMethod != signatureMethodSHA1 {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil {
		if got, err = base64.RawStdEncoding.DecodeString(h.Signature); err != nil {
			return false
		}
	}
	m := hmac.New(sha1.New, key)
	m.Write([]byte(h.Signed))
	return hmac.Equal(m.Sum(nil), got)
}

// SignHeader returns the signed header a pre-DCR client would send: the
// signature is computed over everything before ", public_key=". It is the
// client side of VerifySignature, for tests and tools.
func SignHeader(method, requestorID, nonce string, requestTimeMillis int64, requestURI, publicKey string, key []byte) string {
	signed := fmt.Sprintf("%s requestor_id=%s, nonce=%s, signature_method=%s, request_time=%d, request_uri=%s",
		method, requestorID, nonce, signatureMethodSHA1, requestTimeMillis, requestURI)
	m := hmac.New(sha1.New, key)
	m.Write([]byte(signed))
	return signed + publicKeySep + publicKey + ", signature=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
