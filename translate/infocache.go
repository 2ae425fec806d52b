package translate

import (
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Completed device information is kept per device input (Gateway.infos,
// a recent cache): a device sends the same information, User-Agent and
// address on every call, and completing it (decoding and re-encoding its
// JSON) and deriving its v2 headers would otherwise be a sizeable share of
// a call's cost. The value depends only on the call's input and the
// gateway's configuration, so keeping it per process is safe with any
// store.

// maxCachedInfoInput bounds the input (appendInfoKey) of the completed
// device information the cache keeps. Real devices send a few hundred bytes;
// an entry holds its input about three and a half times over (the key, the
// completed JSON and its Base64 header), so with inputs up to the request
// limits (64 KiB of headers, 256 KiB of form body) the cache's entries could
// otherwise pin hundreds of megabytes to gigabytes. A larger input is
// completed again on each call instead, which costs that call no more than
// decoding the input it sent.
const maxCachedInfoInput = 4 << 10

// completedInfo is completed device information, its X-Device-Info header
// value and the v2 headers of the device.
type completedInfo struct {
	json   []byte // shared: never modified
	header string // standard Base64 of json
	// opts are the device's v2 headers (deviceHeaders). Shared: callers
	// that add options extend a clipped copy.
	opts []v2client.Option
}

func newCompletedInfo(d *v1model.Device, info []byte) *completedInfo {
	header := base64.StdEncoding.EncodeToString(info)
	return &completedInfo{json: info, header: header, opts: slices.Clip(deviceHeaders(d.DeviceID, header, d.IP, d.UserAgent))}
}

// appendInfoKey appends the part of d that the completed information and
// headers depend on. Each call of a device builds it, into a buffer on the
// caller's stack, and looks it up without converting it to a string.
func appendInfoKey(b []byte, d *v1model.Device) []byte {
	b = strconv.AppendInt(b, int64(len(d.DeviceInfo)), 10)
	b = append(b, ':')
	b = append(b, d.DeviceInfo...)
	for _, s := range [...]string{d.DeviceID, d.UserAgent, d.DeviceType, d.AppVersion, d.AppID} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	if d.DeviceInfo == nil {
		b = append(b, '-') // absent, not empty
	}
	b = d.IP.AppendTo(b)
	b = append(b, '|')
	return strconv.AppendUint(b, uint64(d.Port), 10)
}
