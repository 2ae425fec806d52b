package translate

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// maxDeviceState bounds the lifetime of everything kept per device, and is
// the lifetime of a device's state generation: a generation started by a
// logout must outlive whatever the previous one kept.
const maxDeviceState = 90 * 24 * time.Hour

// device is the v2 identity of a device for one v1 call.
type device struct {
	rq *Requestor
	// id is the deviceId exactly as the device sent it.
	id string
	// gen names the device's current state generation once genKnown; a
	// logout starts a new one, which makes everything kept before
	// unreachable at once. It is read with the call's first state read.
	gen      string
	genKnown bool
	// info is the completed device information JSON sent as X-Device-Info.
	info []byte
	// tempPassIdentity is the promotional TempPass identity (generic_data).
	tempPassIdentity string
	opts             []v2client.Option
	// profiles is the device's profiles answer once read in this call.
	profiles *profileSet
}

// deviceOf builds the v2 identity of d: AP-Device-Identifier from deviceId,
// X-Device-Info completed with the keys v2 requires, X-Forwarded-For from the
// device address, and the SSO tokens passed through.
func (g *Gateway) deviceOf(ctx context.Context, rq *Requestor, d *v1model.Device) (*device, error) {
	if d.DeviceID == "" {
		return nil, v1model.ErrRequired("deviceId", v1model.CodeInvalidDeviceID)
	}
	info, err := g.completedInfo(d)
	if err != nil {
		return nil, err
	}
	dv := &device{rq: rq, id: d.DeviceID, info: info.json, tempPassIdentity: d.GenericData, opts: info.opts}
	if d.SubjectToken != "" || d.RokuToken != "" {
		// info.opts is shared by every call of the device: extend a copy.
		dv.opts = append(slices.Clip(info.opts), v2client.WithSubjectToken(d.SubjectToken), v2client.WithRokuToken(d.RokuToken))
	}
	return dv, nil
}

// deviceOptions returns the v2 headers describing a device.
func deviceOptions(id string, info []byte, ip netip.Addr, userAgent string) []v2client.Option {
	return deviceHeaders(id, base64.StdEncoding.EncodeToString(info), ip, userAgent)
}

// deviceHeaders is deviceOptions with the device information already
// encoded as its header value.
func deviceHeaders(id, info string, ip netip.Addr, userAgent string) []v2client.Option {
	opts := make([]v2client.Option, 0, 4)
	opts = append(opts, v2client.WithDeviceID(id), v2client.WithUserAgent(userAgent))
	if info != "" {
		opts = append(opts, v2client.WithDeviceInfo(info))
	}
	if ip.IsValid() {
		opts = append(opts, v2client.WithForwardedFor(ip.Unmap().String()))
	}
	return opts
}

// browserOptions describes the browser of a second-screen call: no device
// identity, only its address and User-Agent.
func browserOptions(d *v1model.Device) []v2client.Option {
	opts := []v2client.Option{v2client.WithUserAgent(d.UserAgent), v2client.WithSubjectToken(d.SubjectToken)}
	if d.IP.IsValid() {
		opts = append(opts, v2client.WithForwardedFor(d.IP.Unmap().String()))
	}
	return opts
}

// completedInfo is deviceInfo and the device's v2 headers, remembered per
// input.
func (g *Gateway) completedInfo(d *v1model.Device) (*completedInfo, error) {
	var buf [512]byte
	key := appendInfoKey(buf[:0], d)
	if v, ok := g.infos.get(key); ok {
		return v, nil
	}
	info, err := g.deviceInfo(d)
	if err != nil {
		return nil, err
	}
	v := newCompletedInfo(d, info)
	if len(key) <= maxCachedInfoInput {
		g.infos.put(string(key), v)
	}
	return v, nil
}

// deviceInfo returns the device information JSON to send upstream: the
// device's own object with its values as given; the keys it lacks that its
// User-Agent reveals reliably (parseUserAgent); the operator's configured
// defaults, if any; its User-Agent and application id; and connectionIp and
// connectionPort agreeing with the address the call is forwarded for
// (connectionKeys). Nothing is invented: a key neither the device nor its
// User-Agent gives is left to Adobe's own extraction from the User-Agent
// header, which every call carries.
func (g *Gateway) deviceInfo(d *v1model.Device) ([]byte, error) {
	obj := map[string]any{}
	if d.DeviceInfo != nil {
		dec := json.NewDecoder(bytes.NewReader(d.DeviceInfo))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil || obj == nil {
			e := v1model.ErrBadRequest(v1model.CodeInvalidDeviceInfo)
			e.Cause = errors.New("device information is not a JSON object")
			return nil, e
		}
	}
	fill := func(key, value string) {
		if v, ok := obj[key]; value != "" && (!ok || v == nil || v == "") {
			obj[key] = value
		}
	}
	for _, f := range parseUserAgent(d.UserAgent) {
		fill(f.key, f.value)
	}
	def := g.defaults
	fill("model", def.Model)
	fill("version", def.Version)
	fill("osName", def.OSName)
	fill("osVersion", def.OSVersion)
	fill("connectionType", def.ConnectionType)
	fill("userAgent", d.UserAgent)
	fill("applicationId", d.AppID)
	for k, v := range obj {
		if v == "" {
			// Sent empty: nothing was said, and nothing is known.
			delete(obj, k)
		}
	}
	if d.IP.IsValid() {
		_, fromCaller := connectionKeys(obj, d)
		obj["connectionIp"] = d.IP.Unmap().String()
		switch {
		case !fromCaller:
		case d.Port != 0:
			obj["connectionPort"] = strconv.Itoa(int(d.Port))
		default:
			delete(obj, "connectionPort")
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, v1model.ErrInternal(err)
	}
	return b, nil
}

// connectionKeys reports which connection keys of the device information
// obj (as the device sent it) must follow the address the call d is
// forwarded for, X-Forwarded-For, so that the two agree (Adobe: both
// describe the actual device; connectionIp feeds home-based
// authentication): connectionIp whenever that address is known, and
// connectionPort unless the device sent one along with a connectionIp equal
// to that address. The port that replaces it is the one the gateway saw,
// known only for a device connected directly (none through a proxy).
func connectionKeys(obj map[string]any, d *v1model.Device) (ip, port bool) {
	if !d.IP.IsValid() {
		return false, false
	}
	sentIP, _ := obj["connectionIp"].(string)
	sentPort := obj["connectionPort"]
	agrees := false
	if a, err := netip.ParseAddr(strings.TrimSpace(sentIP)); err == nil {
		agrees = a.Unmap() == d.IP.Unmap()
	}
	return true, !agrees || sentPort == nil || sentPort == ""
}

// keepFor returns the store TTL of something valid until notAfter and
// remembered for extra afterwards, bounded by maxDeviceState.
func keepFor(now, notAfter time.Time, extra time.Duration) time.Duration {
	ttl := notAfter.Sub(now) + extra
	return min(max(ttl, time.Second), maxDeviceState)
}
