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
// device's own object, its values kept, completed with the five keys v2
// requires (from the User-Agent, then the configured defaults) and with the
// connection address and port the gateway saw.
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
	ua := parseUserAgent(d.UserAgent)
	fill := func(key string, values ...string) {
		if v, ok := obj[key]; ok && v != nil && v != "" {
			return
		}
		for _, v := range values {
			if v != "" {
				obj[key] = v
				return
			}
		}
	}
	def := g.defaults
	fill("model", ua.model, d.DeviceType, def.Model)
	fill("version", d.AppVersion, def.Version)
	fill("osName", ua.osName, def.OSName)
	fill("osVersion", ua.osVersion, def.OSVersion)
	fill("connectionType", def.ConnectionType)
	if d.IP.IsValid() {
		fill("connectionIp", d.IP.Unmap().String())
	}
	if d.Port != 0 {
		fill("connectionPort", strconv.Itoa(int(d.Port)))
	}
	fill("userAgent", d.UserAgent)
	fill("applicationId", d.AppID)
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, v1model.ErrInternal(err)
	}
	return b, nil
}

// keepFor returns the store TTL of something valid until notAfter and
// remembered for extra afterwards, bounded by maxDeviceState.
func keepFor(now, notAfter time.Time, extra time.Duration) time.Duration {
	ttl := notAfter.Sub(now) + extra
	return min(max(ttl, time.Second), maxDeviceState)
}
