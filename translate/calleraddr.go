package translate

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/passgw/passgw/v1model"
	"github.com/passgw/passgw/v2client"
)

// Every v2 call goes upstream with the address of whoever made the v1 call
// it serves (X-Forwarded-For, and X-Device-Info connectionIp/connectionPort
// where the gateway filled them): Adobe throttles and audits by that
// address (Adobe Pass "Throttling mechanism" page). A call keyed by a
// registration code (checkauthn/{code}, preauthorize/{code}, the regcode
// record) acts for the device that registered the code, with that device's
// identifier and information, but it is made by the login web app's
// browser: it goes upstream with the browser's address, not the device's,
// so that a login app polling and its device polling do not share one
// Adobe bucket.

// connectionFilled reports which of the connection keys of the device
// information follow the device's connection (connectionKeys) rather than
// what the device sent: those are replaced by the caller's on calls made
// for the device by someone else.
func connectionFilled(d *v1model.Device) (ip, port bool) {
	obj := map[string]any{}
	if d.DeviceInfo != nil {
		_ = json.Unmarshal(d.DeviceInfo, &obj) // checked by the completion
	}
	ip, port = connectionKeys(obj, d)
	// Another caller's address comes with its own port, or none.
	return ip, ip || port
}

func isUnset(v any) bool { return v == nil || v == "" }

// recordDevice rebuilds the v2 identity of the device that registered rec
// for a call caller made: the device's identifier, information and
// User-Agent, with the caller's address.
func (g *Gateway) recordDevice(rq *Requestor, rec *regRecord, caller *v1model.Device) *device {
	info := rec.DeviceInfo
	if rec.FilledIP || rec.FilledPort {
		info = withConnection(info, rec.FilledIP, rec.FilledPort, caller)
	}
	return &device{rq: rq, id: rec.DeviceID, info: info,
		opts: deviceOptions(rec.DeviceID, info, caller.IP, rec.UserAgent)}
}

// withConnection returns the device information info with connectionIp
// (when ip) and connectionPort (when port) set to the caller's, or removed
// when the caller's is unknown. Keys info does not hold are not added.
func withConnection(info []byte, ip, port bool, caller *v1model.Device) []byte {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(info))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return info
	}
	set := func(key string, ok bool, value string) {
		if _, held := obj[key]; !held || !ok {
			return
		}
		if value == "" {
			delete(obj, key)
		} else {
			obj[key] = value
		}
	}
	addr, p := "", ""
	if caller.IP.IsValid() {
		addr = caller.IP.Unmap().String()
	}
	if caller.Port != 0 {
		p = strconv.Itoa(int(caller.Port))
	}
	set("connectionIp", ip, addr)
	set("connectionPort", port, p)
	b, err := json.Marshal(obj)
	if err != nil {
		return info
	}
	return b
}

// codeCallerOptions are the v2 headers of a code call whose code the
// gateway has no record of (a v2 device app's): the caller's address and
// User-Agent.
func codeCallerOptions(caller *v1model.Device) []v2client.Option {
	return browserOptions(caller)
}
