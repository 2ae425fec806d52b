package translate

import (
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
)

// infoCacheSize bounds each of the two generations of infoCache.
const infoCacheSize = 1024

// infoCache keeps the completed device information of recently seen devices:
// a device sends the same information, User-Agent and address on every
// call, and completing it (decoding and re-encoding its JSON) would
// otherwise be a sizeable share of a call's cost. The value depends only on
// the call's input and the gateway's configuration, so keeping it per
// process is safe with any store.
//
// It holds at most two generations of infoCacheSize entries: when the
// current one is full it becomes the previous one and the oldest is dropped,
// so devices seen in the last few thousand distinct inputs stay cached.
// The zero value is ready to use.
type infoCache struct {
	mu       sync.Mutex
	cur, old map[string]*completedInfo
}

// completedInfo is completed device information and its X-Device-Info
// header value.
type completedInfo struct {
	json   []byte // shared: never modified
	header string // standard Base64 of json
}

func newCompletedInfo(info []byte) *completedInfo {
	return &completedInfo{json: info, header: base64.StdEncoding.EncodeToString(info)}
}

// infoKey is the part of d that the completed information depends on.
func infoKey(d *Device) string {
	var b strings.Builder
	b.Grow(len(d.DeviceInfo) + len(d.UserAgent) + len(d.DeviceType) + len(d.AppVersion) + len(d.AppID) + 80)
	for _, s := range []string{string(d.DeviceInfo), d.UserAgent, d.DeviceType, d.AppVersion, d.AppID} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	if d.DeviceInfo == nil {
		b.WriteByte('-') // absent, not empty
	}
	b.WriteString(d.IP.String())
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(int(d.Port)))
	return b.String()
}

func (c *infoCache) get(key string) (*completedInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[key]; ok {
		return v, true
	}
	if v, ok := c.old[key]; ok {
		c.putLocked(key, v)
		return v, true
	}
	return nil, false
}

func (c *infoCache) put(key string, v *completedInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, v)
}

func (c *infoCache) putLocked(key string, v *completedInfo) {
	if len(c.cur) >= infoCacheSize {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]*completedInfo, infoCacheSize)
	}
	c.cur[key] = v
}
