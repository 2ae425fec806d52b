package record

import (
	"encoding/json"
	"time"
)

// Decision is a v2 permit kept for tokens/authz and tokens/media, keyed
// by requestor, device and resource.
type Decision struct {
	Resource string    `json:"resource"`
	MVPD     string    `json:"mvpd"`
	UserID   string    `json:"userId,omitempty"`
	NotAfter time.Time `json:"notAfter"`
	// The media token of the permit, handed out at most once.
	MediaToken    string    `json:"mediaToken,omitempty"`
	MediaNotAfter time.Time `json:"mediaNotAfter,omitzero"`
}

// AppendBinary implements encoding.BinaryAppender: the compact form of a
// kept decision, in format Version.
func (k Decision) AppendBinary(b []byte) ([]byte, error) { return k.AppendVersion(b, Version) }

// AppendVersion appends the compact form of a kept decision in format
// version 0 or Version.
func (k Decision) AppendVersion(b []byte, version int) ([]byte, error) {
	if err := CheckWritable(version); err != nil {
		return b, err
	}
	b = appendHeader(b, kindDecision, version)
	b = appendString(b, k.Resource)
	b = appendString(b, k.MVPD)
	b = appendString(b, k.UserID)
	b = appendTime(b, k.NotAfter)
	b = appendString(b, k.MediaToken)
	return appendTime(b, k.MediaNotAfter), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; it also reads the
// JSON form.
func (k *Decision) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, k)
	}
	d := decoder{b: b}
	if err := d.header(kindDecision); err != nil {
		return err
	}
	kd := Decision{Resource: d.string(), MVPD: d.string(), UserID: d.string(), NotAfter: d.time(),
		MediaToken: d.string(), MediaNotAfter: d.time()}
	if err := d.done(); err != nil {
		return err
	}
	*k = kd
	return nil
}
