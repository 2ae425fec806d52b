package redisstore

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/rueidis"
)

// Settings are what a Redis server is configured with that decides whether
// it keeps the gateway's state: persistence and eviction.
type Settings struct {
	// Addr is the server these settings are of.
	Addr string
	// AOF reports whether the append-only file is on (INFO persistence
	// aof_enabled).
	AOF bool
	// Save is the RDB snapshot schedule (CONFIG GET save): "" for none.
	// SaveKnown is false when the server refuses CONFIG (some managed
	// services do); Save is then not known.
	Save      string
	SaveKnown bool
	// Policy is maxmemory-policy (INFO memory maxmemory_policy).
	Policy string
	// MaxMemory is maxmemory in bytes (0: no limit).
	MaxMemory int64
}

// Persistent reports whether the server keeps its data across a restart:
// AOF on, or RDB snapshots scheduled (assumed when the schedule cannot be
// read, rather than warning about what may be fine).
func (s Settings) Persistent() bool {
	return s.AOF || !s.SaveKnown || strings.TrimSpace(s.Save) != ""
}

// Problems lists, worst first, how these settings can lose the gateway's
// state; none when they keep it. CONFIG.md ("Running Redis") explains each.
func (s Settings) Problems() []string {
	var out []string
	switch {
	case strings.HasPrefix(s.Policy, "allkeys-"):
		out = append(out, fmt.Sprintf("maxmemory-policy %s evicts any key when memory is full, the gateway's v2 client credentials included; use noeviction", s.Policy))
	case strings.HasPrefix(s.Policy, "volatile-"):
		out = append(out, fmt.Sprintf("maxmemory-policy %s evicts keys with a time to live when memory is full: registration codes, kept decisions and media-token marks; use noeviction", s.Policy))
	}
	if !s.Persistent() {
		out = append(out, "no persistence (appendonly no, save \"\"): a restart of Redis loses every registration, kept decision and sign-in mark; turn appendonly on")
	}
	return out
}

// Settings reads the persistence and eviction settings of every server
// the client knows (one, the master behind Sentinel, or each cluster node),
// ordered by address.
func (s *Store) Settings(ctx context.Context) ([]Settings, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	nodes := s.Client.Nodes()
	addrs := make([]string, 0, len(nodes))
	for addr := range nodes {
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	out := make([]Settings, 0, len(addrs))
	for _, addr := range addrs {
		st, err := settingsOf(ctx, nodes[addr])
		if err != nil {
			return nil, fmt.Errorf("redisstore: settings of %s: %w", addr, err)
		}
		st.Addr = addr
		out = append(out, st)
	}
	return out, nil
}

func settingsOf(ctx context.Context, c rueidis.Client) (Settings, error) {
	b := c.B()
	res := c.DoMulti(ctx,
		b.Info().Section("persistence").Build(),
		b.Info().Section("memory").Build(),
		b.ConfigGet().Parameter("save").Build())
	var out Settings
	persistence, err := res[0].ToString()
	if err != nil {
		return out, fmt.Errorf("INFO persistence: %w", err)
	}
	memory, err := res[1].ToString()
	if err != nil {
		return out, fmt.Errorf("INFO memory: %w", err)
	}
	info := parseInfo(persistence + "\n" + memory)
	out.AOF = info["aof_enabled"] == "1"
	out.Policy = info["maxmemory_policy"]
	out.MaxMemory, _ = strconv.ParseInt(info["maxmemory"], 10, 64)
	if m, err := res[2].AsStrMap(); err == nil {
		out.Save, out.SaveKnown = m["save"], true
	} else if a, err := res[2].AsStrSlice(); err == nil && len(a) == 2 {
		out.Save, out.SaveKnown = a[1], true
	}
	return out, nil
}

// parseInfo reads the "key:value" lines of an INFO answer.
func parseInfo(s string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}
