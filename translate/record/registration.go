package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"net/netip"
	"slices"

	"github.com/passgw/passgw/v1model"
)

// Registration is a stored registration: the v1 record plus what the gateway
// needs to act for the registering device later, when a second-screen call
// names only the code.
type Registration struct {
	Registration    v1model.Registration `json:"registration"`
	ServiceProvider string               `json:"serviceProvider"`
	SessionID       string               `json:"sessionId,omitempty"`
	// Local marks a code the gateway issued itself because v2 answered
	// "authorize": the device was already signed in.
	Local bool `json:"local,omitempty"`
	// The registering device. Its SSO tokens are deliberately not kept.
	DeviceID   string `json:"deviceId"`
	DeviceInfo []byte `json:"deviceInfo,omitempty"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
	// FilledIP and FilledPort report that the gateway filled DeviceInfo's
	// connectionIp / connectionPort from the device's connection: a call
	// another caller makes for the device carries that caller's instead.
	FilledIP   bool `json:"filledIp,omitempty"`
	FilledPort bool `json:"filledPort,omitempty"`
}

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

// Registration flags.
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
// registration record, in format Version.
func (r Registration) AppendBinary(b []byte) ([]byte, error) { return r.AppendVersion(b, Version) }

// AppendVersion appends the compact form of a registration record in format
// version 0 or Version. What the record holds twice (device id, device
// information, User-Agent, service provider) is written once.
func (r Registration) AppendVersion(b []byte, version int) ([]byte, error) {
	if err := CheckWritable(version); err != nil {
		return b, err
	}
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

	b = appendHeader(b, kindRegistration, version)
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
func (r *Registration) UnmarshalBinary(b []byte) error {
	if isJSON(b) {
		return json.Unmarshal(b, r)
	}
	d := decoder{b: b}
	if err := d.header(kindRegistration); err != nil {
		return err
	}
	flags := d.uvarint()
	var rec Registration
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
			return ErrMalformed
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
