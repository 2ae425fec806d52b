package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// DefaultMaxRetries is how many times a command is sent again after a
// connection error when the URL names no max_retries: once, for a connection
// the server closed (a restart) before the client noticed.
const DefaultMaxRetries = 1

// ParseURL returns the client options of a Redis URL:
//
//	redis://[USER:PASSWORD@]HOST[:PORT][/DB][?OPTIONS]   (rediss:// for TLS)
//	unix://[USER:PASSWORD@]/PATH/TO/SOCKET[?db=DB&OPTIONS]
//	redis+sentinel://[USER:PASSWORD@]HOST[:PORT],HOST[:PORT],.../MASTER_SET[/DB][?OPTIONS]
//	redis+cluster://[USER:PASSWORD@]HOST[:PORT],HOST[:PORT],...[?OPTIONS]
//
// The port defaults to 6379 (26379 for sentinels) and the host to
// localhost. With Sentinel the hosts are the sentinels, asked for the
// master of MASTER_SET, and USER:PASSWORD authenticate to the servers; the
// client follows the sentinels' failovers. With Cluster the hosts are seed
// nodes, from which the client learns the whole cluster and follows its
// slot moves; a cluster has database 0 only. rediss+sentinel and
// rediss+cluster use TLS with every server. The query options are those
// go-redis accepts, so that URLs written for it keep working:
//
//   - db: the database, as an alternative to the path.
//   - sentinel_username, sentinel_password: authenticate to the sentinels
//     (Sentinel only).
//   - dial_timeout: bound on connecting (default DefaultTimeout).
//   - read_timeout, write_timeout: bound on waiting for the server; the
//     larger of the two is both the connection's deadline and the bound
//     Open gives each call (default DefaultTimeout).
//   - max_retries: resends of a command after a connection error (default
//     DefaultMaxRetries; 0 or less: none).
//   - conn_max_lifetime (or max_conn_age): connections are replaced after it.
//   - client_name; protocol (2 forces RESP2); skip_verify (rediss only).
//   - pool_size and the other pool settings of go-redis: checked, ignored.
//
// Durations are Go durations ("500ms") or whole seconds. A timeout must be
// positive: a store call is always bounded. Unknown options are an error.
// Client-side caching stays off (see the package documentation). The error
// never contains the URL, which may hold a password.
func ParseURL(rawURL string) (rueidis.ClientOption, error) {
	opt, _, err := parseURL(rawURL)
	return opt, err
}

// parseURL is ParseURL, also returning how many times a command is resent
// after a connection error (max_retries; negative: never).
func parseURL(rawURL string) (rueidis.ClientOption, int, error) {
	opt, retries, err := readURL(rawURL)
	if err != nil {
		return rueidis.ClientOption{}, 0, fmt.Errorf("redisstore: invalid redis URL: %w", redactURL(err, rawURL))
	}
	return opt, retries, nil
}

func readURL(rawURL string) (opt rueidis.ClientOption, retries int, err error) {
	scheme, _, _ := strings.Cut(rawURL, "://")
	var hosts []string
	if strings.HasSuffix(scheme, "+sentinel") || strings.HasSuffix(scheme, "+cluster") {
		// Several hosts, which url.Parse does not take (nor a list of
		// IPv6 literals): read apart, then parse the rest around one.
		if rawURL, hosts, err = cutHosts(rawURL); err != nil {
			return opt, 0, err
		}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL; its cause does not.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			return opt, 0, uerr.Err
		}
		return opt, 0, errors.New("malformed URL")
	}
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	switch u.Scheme {
	case "redis", "rediss":
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "localhost"
		}
		if port == "" {
			port = "6379"
		}
		opt.InitAddress = []string{net.JoinHostPort(host, port)}
		if u.Scheme == "rediss" {
			opt.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		switch f := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' }); len(f) {
		case 0:
		case 1:
			if opt.SelectDB, err = strconv.Atoi(f[0]); err != nil {
				return opt, 0, fmt.Errorf("invalid database number %q", f[0])
			}
		default:
			return opt, 0, fmt.Errorf("invalid URL path %q", u.Path)
		}
	case "redis+sentinel", "rediss+sentinel":
		if opt.InitAddress, err = hostPorts(hosts, "26379"); err != nil {
			return opt, 0, err
		}
		f := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
		if len(f) == 0 || len(f) > 2 {
			return opt, 0, fmt.Errorf("invalid URL path %q: want /MASTER_SET[/DB]", u.Path)
		}
		opt.Sentinel.MasterSet = f[0]
		if len(f) == 2 {
			if opt.SelectDB, err = strconv.Atoi(f[1]); err != nil {
				return opt, 0, fmt.Errorf("invalid database number %q", f[1])
			}
		}
		if u.Scheme == "rediss+sentinel" {
			// Sentinels and servers alike; the server name is checked
			// against each address dialed.
			opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			opt.Sentinel.TLSConfig = opt.TLSConfig
		}
		// Followed on +switch-master and also asked every few seconds, so
		// that a missed event does not keep the client on a demoted master.
		opt.Sentinel.TopologyRefreshInterval = sentinelRefresh
	case "redis+cluster", "rediss+cluster":
		if opt.InitAddress, err = hostPorts(hosts, "6379"); err != nil {
			return opt, 0, err
		}
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return opt, 0, fmt.Errorf("invalid URL path %q: a cluster has database 0 only", u.Path)
		}
		if u.Scheme == "rediss+cluster" {
			opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	case "unix":
		if strings.TrimSpace(u.Path) == "" {
			return opt, 0, errors.New("empty unix socket path")
		}
		opt.InitAddress = []string{u.Path}
		opt.DialCtxFn = func(ctx context.Context, path string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
			return d.DialContext(ctx, "unix", path)
		}
	default:
		return opt, 0, fmt.Errorf("invalid URL scheme %q: want redis, rediss, unix, redis+sentinel, rediss+sentinel, redis+cluster or rediss+cluster", u.Scheme)
	}
	q := u.Query()
	if opt.Sentinel.MasterSet != "" {
		qo := queryOptions{q: q}
		opt.Sentinel.Username = qo.string("sentinel_username")
		opt.Sentinel.Password = qo.string("sentinel_password")
	}
	if retries, err = applyQuery(&opt, q); err != nil {
		return opt, 0, err
	}
	opt.Sentinel.Dialer = opt.Dialer
	// One server, not a cluster: no CLUSTER probe at connect, and a
	// client even while the server is down, which then dials again on the
	// next call.
	opt.ForceSingleClient = hosts == nil
	opt.DisableCache = true
	// All calls share one connection: the more commands each write and
	// read carries, the fewer system calls both sides pay; one pipelined
	// connection keeps up with what a single-threaded Redis serves.
	opt.PipelineMultiplex = -1
	return opt, retries, nil
}

// sentinelRefresh is how often the Sentinel client asks the sentinels
// which server is the master, besides following their +switch-master
// announcements.
const sentinelRefresh = 2 * time.Second

// cutHosts takes the comma-separated host list out of rawURL, returning
// the URL with the single host "hosts" in its place.
func cutHosts(rawURL string) (string, []string, error) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, list := "", authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, list = authority[:at+1], authority[at+1:]
	}
	var hosts []string
	for _, h := range strings.Split(list, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return "", nil, errors.New("no host")
	}
	return scheme + "://" + userinfo + "hosts" + tail, hosts, nil
}

// hostPorts returns hosts as HOST:PORT addresses, with port def where a
// host names none.
func hostPorts(hosts []string, def string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		host, port := h, def
		switch bracketed := strings.HasPrefix(h, "["); {
		case bracketed && strings.HasSuffix(h, "]"): // an IPv6 literal alone
			host = h[1 : len(h)-1]
		case bracketed || strings.Count(h, ":") == 1:
			var err error
			if host, port, err = net.SplitHostPort(h); err != nil {
				return nil, fmt.Errorf("invalid host %q: %v", h, err)
			}
		case strings.Contains(h, ":"):
			return nil, fmt.Errorf("invalid host %q: write an IPv6 address in brackets", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 || host == "" {
			return nil, fmt.Errorf("invalid host %q", h)
		}
		out = append(out, net.JoinHostPort(host, port))
	}
	return out, nil
}

// applyQuery sets opt from the query options ParseURL documents and
// returns max_retries (negative when none).
func applyQuery(opt *rueidis.ClientOption, q url.Values) (int, error) {
	qo := queryOptions{q: q}
	if qo.has("db") {
		opt.SelectDB = qo.int("db")
	}
	opt.Dialer.Timeout = qo.timeout("dial_timeout")
	opt.ConnWriteTimeout = max(qo.timeout("read_timeout"), qo.timeout("write_timeout"))
	retries := DefaultMaxRetries
	if qo.has("max_retries") {
		retries = qo.int("max_retries")
	}
	if retries <= 0 {
		opt.DisableRetry = true
	}
	opt.RetryDelay = func(attempts int, _ rueidis.Completed, _ error) time.Duration {
		// At once, and only so often: during an outage a call must fail
		// quickly, not back off while the device waits.
		if attempts <= retries {
			return 0
		}
		return -1
	}
	opt.MaxFlushDelay = DefaultFlushDelay
	if qo.has("flush_delay") {
		if opt.MaxFlushDelay = qo.duration("flush_delay"); opt.MaxFlushDelay < 0 || opt.MaxFlushDelay > time.Millisecond {
			qo.fail(fmt.Errorf("invalid flush_delay %v: want 0 to 1ms", opt.MaxFlushDelay))
		}
	}
	if qo.has("conn_max_lifetime") {
		opt.ConnLifetime = qo.duration("conn_max_lifetime")
	} else if qo.has("max_conn_age") {
		opt.ConnLifetime = qo.duration("max_conn_age")
	}
	opt.ClientName = qo.string("client_name")
	if qo.has("protocol") {
		switch p := qo.int("protocol"); p {
		case 2:
			opt.AlwaysRESP2 = true
		case 3:
		default:
			qo.fail(fmt.Errorf("invalid protocol %d: want 2 or 3", p))
		}
	}
	if qo.has("skip_verify") {
		skip := qo.bool("skip_verify")
		if opt.TLSConfig != nil {
			opt.TLSConfig.InsecureSkipVerify = skip
		}
	}
	// go-redis' connection-pool settings: checked for syntax, otherwise
	// ignored, since commands share a few pipelined connections here and
	// there is no pool to size.
	for _, name := range []string{"pool_size", "min_idle_conns", "max_idle_conns", "max_active_conns",
		"max_concurrent_dials", "pipeline_pool_size", "pipeline_read_buffer_size", "pipeline_write_buffer_size"} {
		qo.int(name)
	}
	for _, name := range []string{"pool_timeout", "conn_max_idle_time", "idle_timeout",
		"conn_max_lifetime_jitter", "min_retry_backoff", "max_retry_backoff"} {
		qo.duration(name)
	}
	qo.bool("pool_fifo")
	if qo.err != nil {
		return 0, qo.err
	}
	if len(qo.q) > 0 {
		names := make([]string, 0, len(qo.q))
		for name := range qo.q {
			names = append(names, name)
		}
		slices.Sort(names)
		return 0, fmt.Errorf("unknown option %s", strings.Join(names, ", "))
	}
	if retries <= 0 {
		return -1, nil
	}
	return retries, nil
}

// queryOptions reads URL query values, consuming each it reads so that
// the unknown ones remain, and keeps the first malformed one's error.
type queryOptions struct {
	q   url.Values
	err error
}

func (o *queryOptions) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

func (o *queryOptions) has(name string) bool { return len(o.q[name]) > 0 }

// string returns the last value of name, "" when absent.
func (o *queryOptions) string(name string) string {
	vs := o.q[name]
	delete(o.q, name)
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func (o *queryOptions) int(name string) int {
	s := o.string(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		o.fail(fmt.Errorf("invalid %s %q: want a whole number", name, s))
	}
	return n
}

// duration reads a Go duration or a number of seconds; 0 when absent.
func (o *queryOptions) duration(name string) time.Duration {
	s := o.string(name)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		o.fail(fmt.Errorf("invalid %s %q: want a duration", name, s))
	}
	return d
}

// timeout reads a duration that must be positive, DefaultTimeout when
// absent.
func (o *queryOptions) timeout(name string) time.Duration {
	if !o.has(name) {
		return DefaultTimeout
	}
	d := o.duration(name)
	if d <= 0 && o.err == nil {
		o.fail(fmt.Errorf("invalid %s %v: a store call must be bounded, want a positive duration", name, d))
	}
	return d
}

func (o *queryOptions) bool(name string) bool {
	switch s := o.string(name); s {
	case "true", "1":
		return true
	case "false", "0", "":
		return false
	default:
		o.fail(fmt.Errorf("invalid %s %q: want true, false, 1 or 0", name, s))
		return false
	}
}

// redactURL keeps the password of rawURL out of err's text.
func redactURL(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// Clustered reports whether rawURL names a Redis Cluster (redis+cluster or
// rediss+cluster), whose keys are spread over hash slots.
func Clustered(rawURL string) bool {
	scheme, _, _ := strings.Cut(rawURL, "://")
	return strings.HasSuffix(scheme, "+cluster")
}
