package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Launcher returns the command that runs role with args (flags --addr,
// --upstream, --store, --latency, --cpuprofile as the role takes them). The
// process must serve the role through ServeRole.
type Launcher func(ctx context.Context, role Role, args []string) *exec.Cmd

// clockTicks is the unit of utime and stime in /proc/PID/stat
// (sysconf(_SC_CLK_TCK)), 100 on every Linux architecture Go supports.
const clockTicks = 100

// startWait bounds how long a process may take to print its address.
const startWait = 30 * time.Second

// proc is a process whose CPU time and memory the harness reads: a role
// process, redis-server, or the harness itself.
type proc struct {
	name string
	pid  int
	url  string // role processes only
	cmd  *exec.Cmd
	done chan struct{}
	log  string // file holding its stderr
}

// startRole starts role and waits for its "listening on URL" line.
func startRole(ctx context.Context, launch Launcher, name string, role Role, args []string, logDir string) (*proc, error) {
	cmd := launch(ctx, role, args)
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{}), log: logPath}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		close(lines)
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case line, ok := <-lines:
		if u, found := strings.CutPrefix(line, "listening on "); ok && found {
			p.url = strings.TrimSpace(u)
			return p, nil
		}
		p.stop()
		return nil, fmt.Errorf("%s did not start (%q); its log: %s", name, line, tail(logPath))
	case <-time.After(startWait):
		p.stop()
		return nil, fmt.Errorf("%s did not start within %v; its log: %s", name, startWait, tail(logPath))
	}
}

// stop asks the process to finish (SIGINT, so that a CPU profile is
// written), then kills it if it lingers.
func (p *proc) stop() {
	if p == nil || p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// cpuTime is the user plus system CPU time the process has used, from
// /proc/PID/stat (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields are
	// counted after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// peakRSS is the process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmHWM: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// resetPeakRSS restarts VmHWM from the current RSS, so that the peak read
// after a measurement belongs to it. Kernels without the feature keep the
// lifetime peak, which is still an upper bound.
func resetPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// processStats asks a role process for its allocation count.
func processStats(ctx context.Context, c *http.Client, baseURL string) (ProcessStats, error) {
	var st ProcessStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+StatsPath, nil)
	if err != nil {
		return st, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: status %d", StatsPath, resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// post sends an empty-bodied POST and expects a 2xx answer.
func post(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: status %d", u, resp.StatusCode)
	}
	return nil
}

// alive reports whether a process still runs (signal 0 succeeds).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}
