package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/passgw/passgw/compat"
	"github.com/passgw/passgw/telemetry"
	"github.com/passgw/passgw/translate"
	"github.com/passgw/passgw/translate/store"
	"github.com/passgw/passgw/translate/store/redisstore"
	"github.com/passgw/passgw/v1api"
	"github.com/passgw/passgw/v1api/callerauth"
	"github.com/passgw/passgw/v2client"
	"github.com/passgw/passgw/v2client/sandbox"
)

// signedInPath is the gateway's own landing page after an MVPD login, the
// default redirect_url of the built-in requestor.
const signedInPath = "/passgw/signed-in"

const serveUsage = `usage: passgw serve [flags]

Answers the legacy Adobe Pass REST API v1 ("Clientless") on --addr, in the XML or JSON v1 gave, and
does the work with REST API v2. With no upstream configured it starts the embedded sandbox, a fake of
Adobe Pass v2 with mock MVPD sign-in pages, on --sandbox-addr: everything works with no Adobe account
(try it with passgw device). A YAML file (--config; CONFIG.md documents every field) configures the
rest; flags override it.

It prints "passgw listening on URL" once it accepts calls. SIGINT (Ctrl-C) or SIGTERM stops it: new
connections are refused, calls in flight get shutdown_timeout to finish, and each stage is logged.
` + "`go run`" + ` does not pass signals on to the program: stop it with Ctrl-C, or build the binary.
`

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration `FILE` (see CONFIG.md); flags override it")
	addr := fs.String("addr", "", "`HOST:PORT` to listen on (default 127.0.0.1:8080)")
	upstream := fs.String("upstream", "", "Adobe Pass v2: sandbox, production, staging, prequal-production, prequal-staging or a base `URL` (default sandbox)")
	sandboxAddr := fs.String("sandbox-addr", "", "`HOST:PORT` of the embedded sandbox (default 127.0.0.1:8081)")
	storeURL := fs.String("store", "", "where state is kept: memory (one instance) or redis://HOST:PORT/DB, shared by several instances (default memory)")
	setUsage(fs, serveUsage)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	src := &configSource{path: *configFile, addr: *addr, upstream: *upstream, sandboxAddr: *sandboxAddr, store: *storeURL}
	cfg, raw, err := src.read()
	if err != nil {
		return err
	}
	// With port 0 the system picks a free port; listening before the
	// defaults are filled lets those derived from addr (public_url) name it.
	early, err := listenFreePort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("invalid configuration:\naddr: %w", err)
	}
	if early != nil {
		defer early.Close()
		src.requested, src.bound = cfg.Addr, early.Addr().String()
		cfg.Addr = src.bound
	}
	if err := cfg.provision(os.Getenv); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logOut, closeLog := logOutput(cfg, stderr)
	logger, level := newLevelLogger(cfg, logOut)
	// Deferred first, so it runs last: every line logged while stopping
	// is written before serve returns.
	defer closeLog()
	tel, shutdownTracing, err := newTelemetry(ctx, os.Getenv, logger)
	if err != nil {
		return err
	}
	defer flushTraces(shutdownTracing, cfg.ShutdownTimeout, logger)

	st, closeStore, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// Closed once every in-flight request has finished with it.
	defer closeStore()

	g, ctx := errgroup.WithContext(ctx)
	// The embedded sandbox stops after the gateway, so that requests the
	// gateway is finishing at shutdown can still reach their upstream.
	sandboxCtx, stopSandbox := context.WithCancel(context.Background())
	defer stopSandbox()
	sandboxURL := ""
	if cfg.sandbox() {
		ln, sb, err := startSandbox(cfg, logger)
		if err != nil {
			return err
		}
		sandboxURL = "http://" + ln.Addr().String()
		logger.Warn("RUNNING ON THE SANDBOX, NOT ADOBE: the embedded fake of Adobe Pass v2 answers every upstream call; "+
			"sign in on its MVPD pages as alice/alice-pass, bob/bob-pass or carol/carol-pass; "+
			"`passgw device` plays a device and prints its sign-in URL with a real registration code in place of CODE",
			"sandbox", sandboxURL, "second_screen", secondScreenURL(cfg))
		g.Go(func() error {
			return serveUntilDone(sandboxCtx, &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}, ln, cfg.ShutdownTimeout)
		})
	}

	// The shadow comparisons still running at shutdown are waited for (see
	// drainShadow), so that none is cut off half-way through its v2 calls.
	shadow := &compat.Shadow{}
	var tokens *v2client.TokenSource
	gw, err := newGateway(cfg, cfg.upstreamURL(sandboxURL), logger,
		hooks{Store: st, Telemetry: tel, Shadow: shadow, Tokens: func(ts *v2client.TokenSource) { tokens = ts }})
	if err != nil {
		return err
	}
	if cfg.Store != "memory" {
		// Credentials this instance holds, and the device DCR key it signs
		// with, are written back whenever the shared store loses them (see
		// RELIABILITY.md).
		g.Go(func() error { tokens.KeepStored(ctx, v2client.DefaultKeepInterval); return nil })
		g.Go(func() error { gw.keepSharedKey(ctx, v2client.DefaultKeepInterval); return nil })
	}
	gw.level, gw.source, gw.opsApart = level, src, cfg.Ops.Addr != ""
	gw.cur.Load().hash = configHash(raw) // before any call
	tel.Metrics.ConfigInEffect(gw.cur.Load().hash)
	// SIGHUP reads the configuration file again (as POST /ops/reload does).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g.Go(func() error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hup:
				_, _ = gw.reload("SIGHUP") // logged and counted either way
			}
		}
	})
	if cfg.Ops.Addr != "" {
		opsLn, err := net.Listen("tcp", cfg.Ops.Addr)
		if err != nil {
			return fmt.Errorf("ops.addr: %w", err)
		}
		fmt.Fprintf(stdout, "passgw operator endpoints on http://%s\n", opsLn.Addr())
		g.Go(func() error {
			return serveUntilDone(ctx, newGatewayServer(gw.opsHandler(), logger), opsLn, cfg.ShutdownTimeout)
		})
	}
	ln := early
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return err
		}
	}
	if tel.Progress != nil {
		// Stops with the listener, adding the last devices seen to the
		// store before it closes.
		g.Go(func() error { tel.Progress.Run(ctx, cfg.ShutdownTimeout); return nil })
	}
	// Said once, on stdout, where scripts and tests wait for it.
	fmt.Fprintf(stdout, "passgw listening on http://%s (upstream %s)\n", ln.Addr(), cfg.upstreamURL(sandboxURL))
	// One shutdown_timeout bounds the whole stop: the server's drain, then
	// the shadow comparisons'.
	var stopping atomic.Int64
	context.AfterFunc(ctx, func() {
		stopping.Store(time.Now().UnixNano())
		// The cause names the signal ("interrupt signal received") or the
		// failure that stops the gateway.
		logger.Info("shutting down: draining the calls in flight; new connections are refused",
			"cause", context.Cause(ctx).Error(), "shutdown_timeout_ms", telemetry.DurationMS(cfg.ShutdownTimeout))
	})
	if why := capAboveFileLimit(cfg.Connections, openFileLimit()); why != "" {
		logger.Warn(why+": lower connections.max or raise the limit (ulimit -n, LimitNOFILE=, the container's nofile)",
			"max_connections", cfg.Connections.Max, "open_file_limit", openFileLimit())
	}
	capped := gw.capListener(ln)
	g.Go(func() error {
		defer stopSandbox()
		err := serveUntilDone(ctx, newGatewayServer(gw, logger), capped, cfg.ShutdownTimeout)
		grace := cfg.ShutdownTimeout
		if at := stopping.Load(); at != 0 {
			grace -= time.Since(time.Unix(0, at))
		}
		drainShadow(shadow, grace, logger)
		return err
	})
	err = g.Wait()
	if at := stopping.Load(); at != 0 {
		logger.Info("shut down", "duration_ms", telemetry.DurationMS(time.Since(time.Unix(0, at))))
	}
	return err
}

// drainShadow waits, at most grace, for the shadow comparisons started
// before the server stopped: each runs translated calls against v2 and the
// store, which close once serve returns. Each is bounded by shadow.timeout
// anyway; one still running after grace is abandoned and said so.
func drainShadow(s *compat.Shadow, grace time.Duration, logger *slog.Logger) {
	done := make(chan struct{})
	go func() { s.Wait(); close(done) }()
	select {
	case <-done:
		return
	default:
	}
	t := time.NewTimer(max(grace, 0))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		logger.Warn("shutting down: shadow comparisons still running at the end of shutdown_timeout were abandoned")
	}
}

func startSandbox(cfg *Config, logger *slog.Logger) (net.Listener, *sandbox.Server, error) {
	sc := sandbox.Config{Logger: logger.With("component", "sandbox")}
	if cfg.SandboxFixture != "" {
		f, err := sandbox.LoadFixture(cfg.SandboxFixture)
		if err != nil {
			return nil, nil, err
		}
		sc.Fixture = f
	}
	ln, err := net.Listen("tcp", cfg.SandboxAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	sc.BaseURL = "http://" + ln.Addr().String()
	sb, err := sandbox.New(sc)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return ln, sb, nil
}

// hooks replace the gateway's clock and id sources; tests set them so that
// answers are deterministic. The zero value uses the real ones.
type hooks struct {
	Now       func() time.Time
	NewID     func() string // registration record ids
	NewCode   func() string // codes the gateway issues itself
	RequestID func() string // Adobe-Request-Id
	// Store, when set, holds the gateway's state instead of a fresh
	// in-memory store, so several handlers can share it as instances do.
	Store store.Store
	// Telemetry, when set, traces and counts the gateway's calls and
	// serves /metrics. Nil records nothing (trace context is still passed
	// upstream).
	Telemetry *telemetry.Telemetry
	// Tokens, when set, receives the gateway's v2 token source, for serve
	// to keep its credentials in a shared store (KeepStored).
	Tokens func(*v2client.TokenSource)
	// Shadow, when set, holds the shadow-mode comparisons (so tests can
	// read their counts). Nil makes a fresh one when a requestor is in
	// shadow mode.
	Shadow *compat.Shadow
	// Sleep, when set, is how the upstream budget waits for a device's
	// turn (v2client.Budget.Sleep): tests on a manual clock move it there.
	Sleep func(ctx context.Context, d time.Duration) error
}

// newGatewayHandler builds the gateway's HTTP surface: the v1 API answered
// through the v2 service at upstreamURL.
func newGatewayHandler(cfg *Config, upstreamURL string, logger *slog.Logger, h hooks) (http.Handler, error) {
	return newGateway(cfg, upstreamURL, logger, h)
}

// newGateway builds the parts of the gateway that live as long as the
// process, then the generation of cfg.
func newGateway(cfg *Config, upstreamURL string, logger *slog.Logger, h hooks) (*gateway, error) {
	now := h.Now
	if now == nil {
		now = time.Now
	}
	st := h.Store
	if st == nil {
		st = store.NewMemory(now)
	}
	trackProgress(h.Telemetry, st, cfg, logger.With("component", "progress"))
	_, inMemory := st.(*store.Memory)
	gw := &gateway{upstreamURL: upstreamURL, logger: logger, hooks: h, shadow: h.Shadow, callScope: !inMemory}
	if h.Telemetry != nil {
		gw.metrics = h.Telemetry.Metrics
	}
	gw.store = instrumentStore(h.Telemetry, st)
	client := &v2client.Client{BaseURL: upstreamURL, Timeout: cfg.UpstreamTimeout, Logger: logger.With("component", "v2client"),
		HTTPClient: &http.Client{Transport: upstreamTransport()},
		Breaker:    cfg.breaker(h.Now, logger.With("component", "breaker")),
		Budget:     cfg.budget(h.Now, h.Sleep)}
	if client.Budget != nil {
		client.Budget.Shared = cfg.sharedBuckets(st, "budget", gw.metrics, logger.With("component", "budget"))
	}
	tokens, err := cfg.tokenSource(client, gw.store, now, logger.With("component", "tokens"))
	if err != nil {
		return nil, err
	}
	tokens.Now = h.Now
	// The service providers and their statements are the configuration's
	// in effect.
	tokens.Statement = func(ctx context.Context, sp string) (v2client.RegisterRequest, error) {
		return gw.cur.Load().statements(ctx, sp)
	}
	client.Tokens = tokens
	if h.Tokens != nil {
		h.Tokens(tokens)
	}
	instrumentClient(h.Telemetry, client)
	gw.client = client
	gw.throttle = &v1api.Throttle{
		Limit:          func(requestor string) (v1api.ThrottleLimit, bool) { return gw.cur.Load().limit(requestor) },
		TrustedProxies: cfg.trustedProxies(), Now: h.Now,
		Shared: cfg.sharedBuckets(st, "throttle", gw.metrics, logger.With("component", "throttle")),
	}
	if gw.shadow == nil {
		gw.shadow = &compat.Shadow{}
	}
	if _, err := cfg.setUpShadow(gw.shadow, gw.metrics, logger); err != nil {
		return nil, err
	}
	first, err := gw.build(cfg, nil)
	if err != nil {
		return nil, err
	}
	first.hash = configHash(nil)
	gw.cur.Store(first)
	gw.metrics.ConfigInEffect(first.hash)
	return gw, nil
}

// build makes the generation of cfg, a provisioned configuration; prev is
// the generation it replaces (nil at start), whose v1 guard memory it
// takes over.
func (gw *gateway) build(cfg *Config, prev *generation) (*generation, error) {
	h, logger, st := gw.hooks, gw.logger, gw.store
	gen := &generation{cfg: cfg, policy: cfg.policies(), limit: cfg.throttleLimit(),
		statements: v2client.StaticStatements(cfg.statements())}
	gw2, err := translate.New(translate.GatewayConfig{
		Client:           gw.client,
		Store:            st,
		Now:              h.Now,
		NewID:            h.NewID,
		NewCode:          h.NewCode,
		Logger:           logger.With("component", "translate"),
		Requestors:       cfg.translateRequestors(),
		CodePollInterval: cfg.CodePollInterval,
		// A new layout for a new kind of store: one already in use keeps
		// the keys it holds.
		ClusterKeys:   redisstore.Clustered(cfg.Store),
		RecordVersion: cfg.StoreRecordVersion,
	})
	if err != nil {
		return nil, err
	}
	keys, err := cfg.keyRing(func() (callerauth.Key, error) { return gw.sharedKey(cfg, prev == nil) })
	if err != nil {
		return nil, err
	}
	if len(cfg.DCRKeys) == 0 && prev == nil {
		logger.Warn("no dcr_keys configured: device credentials issued on /o/client/* are signed with a key generated and kept in the store; " +
			"with the in-memory store they end with this process")
	}
	modes := map[string]callerauth.Mode{}
	signing := map[string]map[string]string{}
	var statementsDCR []callerauth.Statement
	for _, r := range cfg.Requestors {
		modes[r.ID], _ = callerauth.ParseMode(r.CallerAuth) // checked by provision
		signing[r.ID] = r.SigningKeys
		for _, st := range r.DeviceStatements {
			statementsDCR = append(statementsDCR, callerauth.Statement{Requestor: r.ID, Text: st})
		}
	}
	issuer, err := callerauth.NewIssuer(callerauth.IssuerConfig{
		Keys: keys, Statements: statementsDCR, Now: h.Now, Logger: logger.With("component", "dcr"),
	})
	if err != nil {
		return nil, err
	}
	verifier := callerauth.NewVerifier(callerauth.VerifierConfig{
		Issuer: issuer,
		Policy: func(requestor string) callerauth.Mode {
			if m, ok := modes[requestor]; ok {
				return m
			}
			return callerauth.ModeNone // unknown requestors are refused by translate
		},
		SigningKey: func(requestor, publicKey string) ([]byte, bool) {
			k, ok := signing[requestor][publicKey]
			return []byte(k), ok
		},
		Nonces: callerauth.StoreNonces{Store: st},
		Now:    h.Now,
		Logger: logger.With("component", "callerauth"),
	})
	v1, err := v1api.New(v1api.Config{
		Backend:        gw2,
		Logger:         logger.With("component", "v1api"),
		TrustedProxies: cfg.trustedProxies(),
		Enhanced:       gw2.Enhanced,
		Authenticate:   verifier.Authenticate,
		Throttle:       gw.throttle,
		Now:            h.Now,
		RequestID:      h.RequestID,
	})
	if err != nil {
		return nil, err
	}
	gen.guard = cfg.v1Guard(st, h.Now, gw.metrics.V1Fallback, logger)
	if gen.guard != nil {
		if prev != nil {
			gen.guard.Continue(prev.guard)
		} else if err := gen.guard.Restore(context.Background(), cfg.guarded()); err != nil {
			logger.Error("the v1 guard's switches kept in the store could not be read; requestors switched before this start go to v1 until the guard switches them again",
				"component", "v1guard", "error", err)
		}
		for _, id := range cfg.guarded() {
			gw.metrics.V1GuardWatches(id)
		}
	}
	front, err := cfg.migrationRouter(v1, st, gw.shadow, gen.guard, gw.metrics, logger)
	if err != nil {
		return nil, err
	}
	instrumentRouter(h.Telemetry, front, cfg)
	ready := readiness(st, gw.client.Tokens, cfg, logger.With("component", "readiness"))
	if gen.guard != nil {
		ready.Details = guardDetails(gen.guard)
	}
	// CORS outside everything else on the device paths, so that throttled
	// and error answers carry the grant too, as Adobe's did.
	cors := cfg.cors()
	gen.handler = deviceSurface(cors.Wrap(front), cors.Wrap(gw.throttle.Wrap(issuer)), v1, h.Telemetry, publicReadiness(cfg, ready))
	gen.ops = withOps(http.NotFoundHandler(), ready, h.Telemetry)
	return gen, nil
}

// deviceSurface routes the gateway's listener: v1api.Front parses each v1
// call once and sends it to front (the migration router, ending in the v1
// handler); /o/client/* goes to the device DCR issuer, then the signed-in
// page and the operator endpoints. Every call but the operator ones goes
// through tel (traced, counted, logged; nil records nothing).
func deviceSurface(front, issuer http.Handler, v1 *v1api.Handler, tel *telemetry.Telemetry, ready http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", front)
	mux.Handle("/o/client/", issuer)
	mux.HandleFunc("GET "+signedInPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, signedInPage)
	})
	if tel == nil {
		tel = &telemetry.Telemetry{}
	}
	return &v1api.Front{
		Handler: v1,
		V1:      tel.Handler(front, describeV1),
		Other:   withOps(tel.OtherHandler(mux, describeOther), ready, tel),
	}
}

const signedInPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Signed in</title></head>
<body><h1>You are signed in</h1><p>Return to your TV: it will continue by itself.</p></body></html>
`

// logOutput is where the gateway's log lines go: w itself with
// log_buffer.off, else a telemetry.LogWriter on w that writes them in
// batches, at least every log_buffer.interval (a system call per line was
// the largest cost of the access log). closeLog writes the lines still
// buffered; lines logged after it are written at once.
func logOutput(cfg *Config, w io.Writer) (out io.Writer, closeLog func()) {
	if cfg.LogBuffer.Off {
		return w, func() {}
	}
	lw := telemetry.NewLogWriter(w, telemetry.LogWriterOptions{Interval: cfg.LogBuffer.Interval})
	// A failure to write the log cannot be logged.
	return lw, func() { _ = lw.Close() }
}

// newLogger is the gateway's logger, writing to w. When w is a
// telemetry.LogWriter (from logOutput), warnings and errors flush it, so
// that they reach an operator at once.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	logger, _ := newLevelLogger(cfg, w)
	return logger
}

// newLevelLogger is newLogger with its level held in a LevelVar, which a
// reload sets.
func newLevelLogger(cfg *Config, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := &slog.LevelVar{}
	level.Set(logLevel(cfg))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if lw, ok := w.(*telemetry.LogWriter); ok {
		h = lw.Handler(h, slog.LevelWarn)
	}
	// Every line logged with a v1 call's context names its request id.
	return slog.New(telemetry.LogHandler(h)), level
}

// logLevel is the level log_level names.
func logLevel(cfg *Config) slog.Level {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // checked by provision
	return level
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully:
// the listener closes at once (new connections are refused), idle
// connections close, and in-flight requests get at most grace to finish.
// Requests still running after grace are cut off by closing their
// connections; that is logged to srv.ErrorLog but is still a clean stop
// (nil), as the operator asked for it.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		if srv.ErrorLog != nil {
			srv.ErrorLog.Printf("shutdown: requests still in flight after %v were cut off", grace)
		}
		err = srv.Close()
	}
	if err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// upstreamTransport is the connection pool to Adobe. Every device call
// becomes one or more v2 calls to the same host, so keep enough idle
// connections for the gateway's concurrency: net/http's default of 2 per host
// makes a busy gateway dial and handshake for most calls.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return t
}

// secondScreenURL is the v1 authenticate URL a second-screen app opens for
// the first configured requestor, with CODE standing for the device's
// registration code: what a newcomer pastes into a browser to sign in.
func secondScreenURL(cfg *Config) string {
	r := cfg.Requestors[0]
	q := url.Values{
		"requestor_id": {r.ID},
		"mso_id":       {"AcmeCable"},
		"domain_name":  {r.DomainName},
		"redirect_url": {r.RedirectURL},
	}
	return strings.TrimSuffix(cfg.PublicURL, "/") + "/api/v1/authenticate?reg_code=CODE&" + q.Encode()
}
