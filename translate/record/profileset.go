package record

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/passgw/passgw/v2client"
)

// SeenProfile remembers the last profile a device acted with, so that once
// it is gone the gateway can tell "expired" from "never signed in".
type SeenProfile struct {
	MVPD     string    `json:"mvpd"`
	NotAfter time.Time `json:"notAfter"`
}

// TempPass remembers a free preview, because v2 lists temporary profiles only
// per MVPD, never in the device's profile list.
type TempPass struct {
	MVPD     string `json:"mvpd"`
	Identity string `json:"identity,omitempty"`
	// Until is when the gateway forgets the free preview: a device that has
	// not started its trial by then must ask for a new one.
	Until time.Time `json:"until,omitzero"`
}

// ProfileSet is a cached profiles answer.
type ProfileSet struct {
	Profiles map[string]v2client.Profile `json:"profiles"`
	// Pending is the device's free preview when v2 answered no TempPass
	// profile for it: the trial exists but its clock has not started.
	Pending *TempPass `json:"pending,omitempty"`
	// TempPassOver reports that v2 refused the free preview's TempPass
	// profile because the trial's time or resources are used up.
	TempPassOver bool `json:"tempPassOver,omitempty"`
	// TempPass is the device's free preview when the answer was read, so
	// that decisions find its promotional identity without another store
	// read. A new free preview drops the cached answer.
	TempPass *TempPass `json:"tempPass,omitempty"`
	// Seen is the profile remembered as last seen when the answer was
	// cached. Within the cache's life (never past a profile's notAfter) the
	// same profile is chosen, so calls answered from the cache need not
	// remember it again.
	Seen *SeenProfile `json:"seen,omitempty"`
}

// ProfileSet flags.
const (
	setTempPassOver = 1 << iota
	setPending
	setTempPass
	setSeen
)

// AppendBinary implements encoding.BinaryAppender: the compact form of a
// cached profiles answer, in format Version.
func (s ProfileSet) AppendBinary(b []byte) ([]byte, error) { return s.AppendVersion(b, Version) }

// AppendVersion appends the compact form of a cached profiles answer in
// format version 0 or Version.
func (s ProfileSet) AppendVersion(b []byte, version int) ([]byte, error) {
	if err := CheckWritable(version); err != nil {
		return b, err
	}
	var flags uint64
	if s.TempPassOver {
		flags |= setTempPassOver
	}
	if s.Pending != nil {
		flags |= setPending
	}
	if s.TempPass != nil {
		flags |= setTempPass
	}
	if s.Seen != nil {
		flags |= setSeen
	}
	b = appendHeader(b, kindProfileSet, version)
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(len(s.Profiles)))
	for mvpd, p := range s.Profiles {
		b = appendString(b, mvpd)
		b = appendMillis(b, p.NotBefore)
		b = appendMillis(b, p.NotAfter)
		b = appendString(b, p.Issuer)
		b = appendString(b, p.Type)
		b = binary.AppendUvarint(b, uint64(len(p.Attributes)))
		for name, a := range p.Attributes {
			b = appendString(b, name)
			b = appendBytes(b, a.Value)
			b = appendString(b, a.State)
		}
	}
	for _, tp := range []*TempPass{s.Pending, s.TempPass} {
		if tp != nil {
			b = appendString(b, tp.MVPD)
			b = appendString(b, tp.Identity)
			b = appendTime(b, tp.Until)
		}
	}
	if s.Seen != nil {
		b = appendString(b, s.Seen.MVPD)
		b = appendTime(b, s.Seen.NotAfter)
	}
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; it also reads the
// JSON form.
func (s *ProfileSet) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, s)
	}
	d := decoder{b: b}
	if err := d.header(kindProfileSet); err != nil {
		return err
	}
	flags := d.uvarint()
	var set ProfileSet
	set.TempPassOver = flags&setTempPassOver != 0
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return ErrMalformed
	}
	if n > 0 {
		set.Profiles = make(map[string]v2client.Profile, n)
	}
	// The MVPD id recurs as the issuer, the last seen profile's MVPD and the
	// free preview's.
	var mvpd string
	for range n {
		mvpd = d.string()
		p := v2client.Profile{NotBefore: d.millis(), NotAfter: d.millis(), Issuer: d.stringOf(mvpd),
			Type: d.stringOf(v2client.ProfileRegular, v2client.ProfileTemporary, v2client.ProfileDegraded,
				v2client.ProfileAppleSSO, v2client.ProfilePlatformSSO, v2client.ProfileServiceTokenSSO)}
		attrs := d.uvarint()
		if attrs > uint64(len(d.b)) {
			return ErrMalformed
		}
		if attrs > 0 {
			p.Attributes = make(map[string]v2client.Attribute, attrs)
		}
		for range attrs {
			name := d.attributeName()
			p.Attributes[name] = v2client.Attribute{Value: d.bytes(), State: d.stringOf(v2client.StatePlain, v2client.StateEncrypted)}
		}
		set.Profiles[mvpd] = p
	}
	readTempPass := func() *TempPass {
		return &TempPass{MVPD: d.stringOf(mvpd), Identity: d.string(), Until: d.time()}
	}
	if flags&setPending != 0 {
		set.Pending = readTempPass()
	}
	if flags&setTempPass != 0 {
		set.TempPass = readTempPass()
	}
	if flags&setSeen != 0 {
		set.Seen = &SeenProfile{MVPD: d.stringOf(mvpd), NotAfter: d.time()}
	}
	if err := d.done(); err != nil {
		return err
	}
	*s = set
	return nil
}
