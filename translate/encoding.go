package translate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// The gateway's hot and numerous store values (registration records, cached
// profiles, kept decisions) have a compact binary form: a one-byte format tag,
// then their fields in a fixed order as uvarint-length-prefixed bytes and
// varints. It is a fraction of the size of their JSON and decodes without
// reflection. Each decoder also accepts the JSON form (a value starting with
// '{'), which is what earlier versions of the gateway stored.

// Format tags; none may be '{'.
const (
	formatRegRecord  byte = 0x01
	formatProfileSet byte = 0x02
	formatDecision   byte = 0x03
)

var errMalformed = errors.New("translate: malformed stored value")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime writes t as nanoseconds since the epoch; 0 is the zero time.
// Instants outside the years 1678-2262 lose their nanoseconds' range and are
// not stored by the gateway.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// appendMillis keeps whether the instant is absent and its JSON form.
func appendMillis(b []byte, m v2client.Millis) []byte {
	switch {
	case m.IsZero():
		return append(b, 0)
	case isQuoted(m):
		b = append(b, 2)
	default:
		b = append(b, 1)
	}
	return binary.AppendVarint(b, m.Int64())
}

func isQuoted(m v2client.Millis) bool {
	j, _ := m.MarshalJSON()
	return len(j) > 0 && j[0] == '"'
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendUUID writes a canonical lower-case UUID as its 16 bytes, anything
// else as a string; a leading byte tells which.
func appendUUID(b []byte, s string) []byte {
	if raw, ok := canonicalUUID(s); ok {
		b = append(b, 1)
		return append(b, raw[:]...)
	}
	return appendString(append(b, 0), s)
}

// canonicalUUID parses s when it is a UUID in the canonical lower-case
// form String writes, the only form stored as 16 bytes: any other (upper
// case, braces, no dashes, a URN) would not come back the same.
func canonicalUUID(s string) (uuid.UUID, bool) {
	if len(s) != 36 || strings.ContainsAny(s, "ABCDEF") {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// decoder reads what the append functions wrote. The first error sticks;
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errMalformed
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.raw()) }

// stringOf reads a string and returns the one of known it equals, which
// costs no allocation, or else a copy. Cached profiles are read on every
// call and repeat a few values (types, states, an MVPD id) throughout.
func (d *decoder) stringOf(known ...string) string {
	raw := d.raw()
	for _, k := range known {
		if string(raw) == k {
			return k
		}
	}
	return string(raw)
}

// attributeName reads a profile attribute name, without an allocation for
// the names Adobe documents.
func (d *decoder) attributeName() string {
	raw := d.raw()
	switch string(raw) {
	case "userID":
		return "userID"
	case "upstreamUserID":
		return "upstreamUserID"
	case "householdID":
		return "householdID"
	case "zip":
		return "zip"
	case "encryptedZip":
		return "encryptedZip"
	case "maxRating":
		return "maxRating"
	case "primaryOID":
		return "primaryOID"
	case "channelID":
		return "channelID"
	case "is_hoh":
		return "is_hoh"
	case "typeID":
		return "typeID"
	case "mvpd":
		return "mvpd"
	}
	return string(raw)
}

// bytes returns a copy, nil for empty.
func (d *decoder) bytes() []byte {
	v := d.raw()
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) bool() bool { return d.byte() == 1 }

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) millis() v2client.Millis {
	kind := d.byte()
	if kind == 0 {
		return v2client.Millis{}
	}
	m := v2client.MillisFromInt(d.varint())
	if kind == 2 {
		m = m.Quoted()
	}
	return m
}

func (d *decoder) uuid() string {
	if d.byte() == 0 {
		return d.string()
	}
	if len(d.b) < 16 {
		d.fail()
		return ""
	}
	s := uuid.UUID(d.b[:16]).String()
	d.b = d.b[16:]
	return s
}

// done reports the first error, or trailing bytes as an error.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		return errMalformed
	}
	return d.err
}

// isJSON reports whether a stored value is in the JSON form.
func isJSON(b []byte) bool { return len(b) > 0 && b[0] == '{' }

// deviceInfoKeys are the device information keys written as one byte (their
// index + 1) in the compact form. The order is part of the format: append
// only.
var deviceInfoKeys = [...]string{
	"applicationId", "connectionIp", "connectionPort", "connectionType", "manufacturer", "model",
	"osName", "osVersion", "primaryHardwareType", "userAgent", "version", "vendor", "osFamily",
	"browserName", "browserVersion", "displayWidth", "displayHeight", "hardwareId",
}

// Value kinds of a compact device information entry.
const (
	infoValueString    byte = 0
	infoValueUserAgent byte = 1 // the record's User-Agent
	infoValueIP        byte = 2 // the record's device address
)

// appendDeviceInfo writes completed device information. A flat object of
// strings (what the gateway's completion produces from every ordinary
// device) is written key by key, known keys as one byte and the values the
// record holds anyway (User-Agent, address) as a reference; it decodes back
// to the same bytes, since the completion writes it with json.Marshal of a
// map. Anything else is kept as sent.
func appendDeviceInfo(b, info []byte, userAgent, ip string) []byte {
	var obj map[string]string
	if len(info) == 0 || json.Unmarshal(info, &obj) != nil {
		return appendBytes(append(b, 0), info)
	}
	if again, err := json.Marshal(obj); err != nil || !bytes.Equal(again, info) {
		return appendBytes(append(b, 0), info)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(obj)))
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if i := slices.Index(deviceInfoKeys[:], k); i >= 0 {
			b = append(b, byte(i+1))
		} else {
			b = appendString(append(b, 0), k)
		}
		switch v := obj[k]; {
		case v != "" && v == userAgent:
			b = append(b, infoValueUserAgent)
		case v != "" && v == ip:
			b = append(b, infoValueIP)
		default:
			b = appendString(append(b, infoValueString), v)
		}
	}
	return b
}

func (d *decoder) deviceInfo(userAgent, ip string) []byte {
	if d.byte() == 0 {
		return d.bytes()
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	obj := make(map[string]string, n)
	for range n {
		var k string
		switch i := int(d.byte()); {
		case i == 0:
			k = d.string()
		case i <= len(deviceInfoKeys):
			k = deviceInfoKeys[i-1]
		default:
			d.fail()
			return nil
		}
		switch d.byte() {
		case infoValueString:
			obj[k] = d.string()
		case infoValueUserAgent:
			obj[k] = userAgent
		case infoValueIP:
			obj[k] = ip
		default:
			d.fail()
			return nil
		}
	}
	if d.err != nil {
		return nil
	}
	info, err := json.Marshal(obj)
	if err != nil {
		d.fail()
		return nil
	}
	return info
}

// regRecord flags.
const (
	regLocal = 1 << iota
	regSameServiceProvider
	regSameDeviceID
	regSameDeviceInfo
	regSameUserAgent
	regSameOriginalUserAgent
	regSourceApplication
	regBinaryIP
	regFilledIP
	regFilledPort
)

// AppendBinary implements encoding.BinaryAppender: the compact form of a
// registration record. What the record holds twice (device id, device
// information, User-Agent, service provider) is written once.
func (r regRecord) AppendBinary(b []byte) ([]byte, error) {
	info := &r.Registration.Info
	var flags uint64
	set := func(flag uint64, ok bool) {
		if ok {
			flags |= flag
		}
	}
	set(regLocal, r.Local)
	set(regSameServiceProvider, r.ServiceProvider == r.Registration.Requestor)
	set(regSameDeviceID, len(info.DeviceID) > 0 && string(info.DeviceID) == r.DeviceID)
	set(regSameDeviceInfo, len(info.DeviceInfo) > 0 && bytes.Equal(info.DeviceInfo, r.DeviceInfo))
	set(regSameUserAgent, info.UserAgent != "" && info.UserAgent == r.UserAgent)
	set(regSameOriginalUserAgent, info.OriginalUserAgent != "" && info.OriginalUserAgent == r.UserAgent)
	set(regSourceApplication, info.SourceApplication != nil)
	ip, err := netip.ParseAddr(r.IP)
	set(regBinaryIP, err == nil && ip.String() == r.IP)
	set(regFilledIP, r.FilledIP)
	set(regFilledPort, r.FilledPort)

	b = append(b, formatRegRecord)
	b = binary.AppendUvarint(b, flags)
	b = appendUUID(b, r.Registration.ID)
	b = appendString(b, r.Registration.Code)
	b = appendString(b, r.Registration.Requestor)
	b = appendString(b, r.Registration.MVPD)
	b = appendTime(b, r.Registration.Generated)
	b = appendTime(b, r.Registration.Expires)
	if flags&regSameDeviceID == 0 {
		b = appendBytes(b, info.DeviceID)
	}
	b = appendString(b, info.DeviceType)
	b = appendString(b, info.DeviceUser)
	b = appendString(b, info.AppID)
	b = appendString(b, info.AppVersion)
	b = appendString(b, info.RegistrationURL)
	if flags&regSameDeviceInfo == 0 {
		b = appendBytes(b, info.DeviceInfo)
	}
	if flags&regSameUserAgent == 0 {
		b = appendString(b, info.UserAgent)
	}
	if flags&regSameOriginalUserAgent == 0 {
		b = appendString(b, info.OriginalUserAgent)
	}
	b = appendString(b, info.AuthorizationType)
	if sa := info.SourceApplication; sa != nil {
		b = appendString(b, sa.ID)
		b = appendString(b, sa.Name)
		b = appendString(b, sa.Version)
	}
	if flags&regSameServiceProvider == 0 {
		b = appendString(b, r.ServiceProvider)
	}
	b = appendUUID(b, r.SessionID)
	b = appendString(b, r.DeviceID)
	if flags&regBinaryIP != 0 {
		raw, _ := ip.MarshalBinary()
		b = appendBytes(b, raw)
	} else {
		b = appendString(b, r.IP)
	}
	b = appendString(b, r.UserAgent)
	return appendDeviceInfo(b, r.DeviceInfo, r.UserAgent, r.IP), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; it also reads the
// JSON form.
func (r *regRecord) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, r)
	}
	d := decoder{b: b}
	if d.byte() != formatRegRecord {
		return errMalformed
	}
	flags := d.uvarint()
	var rec regRecord
	reg, info := &rec.Registration, &rec.Registration.Info
	rec.Local = flags&regLocal != 0
	rec.FilledIP, rec.FilledPort = flags&regFilledIP != 0, flags&regFilledPort != 0
	reg.ID = d.uuid()
	reg.Code = d.string()
	reg.Requestor = d.string()
	reg.MVPD = d.string()
	reg.Generated = d.time()
	reg.Expires = d.time()
	if flags&regSameDeviceID == 0 {
		info.DeviceID = d.bytes()
	}
	info.DeviceType = d.string()
	info.DeviceUser = d.string()
	info.AppID = d.string()
	info.AppVersion = d.string()
	info.RegistrationURL = d.string()
	if flags&regSameDeviceInfo == 0 {
		info.DeviceInfo = d.bytes()
	}
	if flags&regSameUserAgent == 0 {
		info.UserAgent = d.string()
	}
	if flags&regSameOriginalUserAgent == 0 {
		info.OriginalUserAgent = d.string()
	}
	info.AuthorizationType = d.string()
	if flags&regSourceApplication != 0 {
		info.SourceApplication = &v1model.SourceApplication{ID: d.string(), Name: d.string(), Version: d.string()}
	}
	rec.ServiceProvider = reg.Requestor
	if flags&regSameServiceProvider == 0 {
		rec.ServiceProvider = d.string()
	}
	rec.SessionID = d.uuid()
	rec.DeviceID = d.string()
	if flags&regBinaryIP != 0 {
		var ip netip.Addr
		if err := ip.UnmarshalBinary(d.raw()); err != nil {
			return errMalformed
		}
		rec.IP = ip.String()
	} else {
		rec.IP = d.string()
	}
	rec.UserAgent = d.string()
	rec.DeviceInfo = d.deviceInfo(rec.UserAgent, rec.IP)
	if flags&regSameDeviceID != 0 {
		info.DeviceID = []byte(rec.DeviceID)
	}
	if flags&regSameDeviceInfo != 0 {
		info.DeviceInfo = rec.DeviceInfo
	}
	if flags&regSameUserAgent != 0 {
		info.UserAgent = rec.UserAgent
	}
	if flags&regSameOriginalUserAgent != 0 {
		info.OriginalUserAgent = rec.UserAgent
	}
	if err := d.done(); err != nil {
		return err
	}
	*r = rec
	return nil
}

// profileSet flags.
const (
	setTempPassOver = 1 << iota
	setPending
	setTempPass
	setSeen
)

// AppendBinary implements encoding.BinaryAppender: the compact form of a
// cached profiles answer.
func (s profileSet) AppendBinary(b []byte) ([]byte, error) {
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
	b = append(b, formatProfileSet)
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
	for _, tp := range []*tempPass{s.Pending, s.TempPass} {
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
func (s *profileSet) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, s)
	}
	d := decoder{b: b}
	if d.byte() != formatProfileSet {
		return errMalformed
	}
	flags := d.uvarint()
	var set profileSet
	set.TempPassOver = flags&setTempPassOver != 0
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errMalformed
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
			return errMalformed
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
	readTempPass := func() *tempPass {
		return &tempPass{MVPD: d.stringOf(mvpd), Identity: d.string(), Until: d.time()}
	}
	if flags&setPending != 0 {
		set.Pending = readTempPass()
	}
	if flags&setTempPass != 0 {
		set.TempPass = readTempPass()
	}
	if flags&setSeen != 0 {
		set.Seen = &seenProfile{MVPD: d.stringOf(mvpd), NotAfter: d.time()}
	}
	if err := d.done(); err != nil {
		return err
	}
	*s = set
	return nil
}

// AppendBinary implements encoding.BinaryAppender: the compact form of a
// kept decision.
func (k keptDecision) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, formatDecision)
	b = appendString(b, k.Resource)
	b = appendString(b, k.MVPD)
	b = appendString(b, k.UserID)
	b = appendTime(b, k.NotAfter)
	b = appendString(b, k.MediaToken)
	return appendTime(b, k.MediaNotAfter), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler; it also reads the
// JSON form.
func (k *keptDecision) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, k)
	}
	d := decoder{b: b}
	if d.byte() != formatDecision {
		return errMalformed
	}
	kd := keptDecision{Resource: d.string(), MVPD: d.string(), UserID: d.string(), NotAfter: d.time(),
		MediaToken: d.string(), MediaNotAfter: d.time()}
	if err := d.done(); err != nil {
		return err
	}
	*k = kd
	return nil
}
