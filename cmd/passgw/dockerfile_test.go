package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passgw/passgw/internal/testenv"
)

// dockerInstruction is one Dockerfile instruction, continuation lines joined.
type dockerInstruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, path string) []dockerInstruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("Dockerfile ends inside a continued line: %q", cur.String())
	}
	return out
}

// execForm decodes a JSON-array (exec form) argument list.
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatalf("%s %s: not exec form (the runtime image has no shell): %v", what, args, err)
	}
	return argv
}

// TestDockerfile checks the image recipe by reading it, as no Docker engine
// runs here: a static build stage, a non-root minimal runtime, the example
// config, and HEALTHCHECK and CMD command lines this binary accepts (they
// are run against the real subcommands).
func TestDockerfile(t *testing.T) {
	root := testenv.ModuleRoot(t)
	ins := parseDockerfile(t, filepath.Join(root, "Dockerfile"))

	var stages [][]dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s before the first FROM", in.cmd)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", len(stages))
	}
	build, runtime := stages[0], stages[len(stages)-1]

	from := strings.Fields(build[0].args)
	if len(from) != 3 || !strings.EqualFold(from[1], "AS") || !strings.HasPrefix(from[0], "golang:") {
		t.Fatalf("build stage FROM %q, want golang:<version> AS <name>", build[0].args)
	}
	stageName := from[2]
	var built bool
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			built = true
			if !strings.Contains(in.args, "CGO_ENABLED=0") || !strings.Contains(in.args, "./cmd/passgw") {
				t.Errorf("build %q: want CGO_ENABLED=0 go build ... ./cmd/passgw", in.args)
			}
			if !strings.Contains(in.args, "-X main.version=") {
				t.Errorf("build %q does not stamp main.version", in.args)
			}
		}
	}
	if !built {
		t.Error("no go build in the build stage")
	}

	base := strings.Fields(runtime[0].args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("runtime image %q, want distroless/static or scratch", base)
	}
	var user, entrypoint, cmd, health string
	var exposed []string
	copied := map[string]string{} // destination -> source
	for _, in := range runtime {
		switch in.cmd {
		case "USER":
			user = in.args
		case "EXPOSE":
			exposed = append(exposed, strings.Fields(in.args)...)
		case "ENTRYPOINT":
			entrypoint = in.args
		case "CMD":
			cmd = in.args
		case "HEALTHCHECK":
			health = in.args
		case "COPY":
			f := strings.Fields(in.args)
			var fromStage string
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				if v, ok := strings.CutPrefix(f[0], "--from="); ok {
					fromStage = v
				}
				f = f[1:]
			}
			if len(f) != 2 {
				t.Fatalf("COPY %q: want one source and a destination", in.args)
			}
			if fromStage == "" {
				if _, err := os.Stat(filepath.Join(root, f[0])); err != nil {
					t.Errorf("COPY source %s: %v", f[0], err)
				}
			} else if fromStage != stageName {
				t.Errorf("COPY --from=%s, want the build stage %s", fromStage, stageName)
			}
			copied[f[1]] = fromStage + ":" + f[0]
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("USER %q, want a non-root user", user)
	}
	// distroless images define nonroot as 65532; scratch has no users, so
	// only a numeric one works there.
	if u, _, _ := strings.Cut(user, ":"); u != "65532" && (u != "nonroot" || base == "scratch") {
		t.Errorf("USER %q does not exist in %s", user, base)
	}
	ep := execForm(t, "ENTRYPOINT", entrypoint)
	if len(ep) != 1 || copied[ep[0]] != stageName+":/out/passgw" {
		t.Fatalf("ENTRYPOINT %v is not the binary built (copied: %v)", ep, copied)
	}
	var configDest string
	for dst, src := range copied {
		if src == ":passgw.example.yaml" {
			configDest = dst
		}
	}
	if configDest == "" {
		t.Fatal("the example configuration is not copied into the image")
	}

	// HEALTHCHECK: options, then CMD in exec form running the binary.
	opts, hcCmd, ok := strings.Cut(health, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", health)
	}
	if !strings.Contains(opts, "--interval=") || !strings.Contains(opts, "--timeout=") {
		t.Errorf("HEALTHCHECK options %q: want --interval and --timeout", opts)
	}
	hc := execForm(t, "HEALTHCHECK CMD", hcCmd)
	if hc[0] != ep[0] || len(hc) < 2 || hc[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK %v does not run %s healthcheck", hc, ep[0])
	}

	serveArgs := execForm(t, "CMD", cmd)
	i := slices.Index(serveArgs, "--addr")
	j := slices.Index(serveArgs, "--config")
	if len(serveArgs) == 0 || serveArgs[0] != "serve" || i < 0 || i+1 >= len(serveArgs) || j < 0 || j+1 >= len(serveArgs) {
		t.Fatalf("CMD %v, want serve --config FILE --addr 0.0.0.0:PORT", serveArgs)
	}
	if serveArgs[j+1] != configDest {
		t.Errorf("CMD config %s, want the copied example %s", serveArgs[j+1], configDest)
	}
	host, port, ok := strings.Cut(serveArgs[i+1], ":")
	if !ok || host != "0.0.0.0" || !slices.Contains(exposed, port) {
		t.Errorf("CMD --addr %s: want 0.0.0.0 on an EXPOSEd port (%v)", serveArgs[i+1], exposed)
	}
	hcURL := hc[slices.Index(hc, "--gateway")+1]
	if probe, err := probeURL(hcURL); err != nil || probe != "http://127.0.0.1:"+port+"/readyz" {
		t.Errorf("HEALTHCHECK --gateway %s probes %s (%v), want /readyz on port %s", hcURL, probe, err, port)
	}

	// The command lines are ones this binary accepts.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer ready.Close()
	hcArgs := slices.Clone(hc[1:])
	hcArgs[slices.Index(hcArgs, "--gateway")+1] = strings.Replace(hcURL, "http://127.0.0.1:"+port, ready.URL, 1)
	if err := run(ctx, hcArgs, io.Discard, io.Discard); err != nil {
		t.Errorf("HEALTHCHECK command %v: %v", hcArgs, err)
	}

	args := slices.Clone(serveArgs)
	args[j+1] = filepath.Join(root, "passgw.example.yaml")
	args[i+1] = "127.0.0.1:0"
	args = append(args, "--sandbox-addr", "127.0.0.1:0")
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, outW, io.Discard); outW.Close() }()
	line, _ := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	if !strings.Contains(line, "listening on") {
		t.Errorf("CMD %v did not start: %q %v", args, line, <-done)
		return
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("CMD %v: %v", args, err)
	}

	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil || !slices.Contains(strings.Fields(string(ignore)), ".git") {
		t.Errorf(".dockerignore must keep .git out of the build context (%v)", err)
	}
}
