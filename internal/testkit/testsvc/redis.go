// Package testsvc starts the real services tests need: a redis-server on a
// free loopback port and an in-process Kafka cluster (franz-go's kfake).
//
// A test that needs a binary that is not on PATH is skipped with a message
// naming it, unless the environment sets REFINERY_REQUIRE_REAL=1 (as .ci/run
// does): then it fails, so CI never passes by skipping.
package testsvc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RequireRealEnv is the variable that turns a skip for a missing binary into
// a failure.
const RequireRealEnv = "REFINERY_REQUIRE_REAL"

// Missing skips t because binary is absent, or fails it when RequireRealEnv=1.
func Missing(t testing.TB, binary, why string) {
	t.Helper()
	msg := fmt.Sprintf("%s not found on PATH (%s); install it (.ci/run does)", binary, why)
	if os.Getenv(RequireRealEnv) == "1" {
		t.Fatalf("%s and %s=1", msg, RequireRealEnv)
	}
	t.Skip(msg)
}

// Redis is a redis-server process owned by one test.
type Redis struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	// URL is redis://Addr/0.
	URL string

	t          testing.TB
	bin        string
	dir        string
	port       int
	appendOnly bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// RedisOptions shape a server.
type RedisOptions struct {
	// AppendOnly keeps the data across Stop and Restart (appendfsync
	// always), for outage tests. Default: no persistence.
	AppendOnly bool
}

// StartRedis starts a redis-server on a free loopback port with its data in
// a temporary directory, without persistence, and stops it when the test
// ends. It skips (or fails, see [Missing]) when redis-server is absent.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return StartRedisWith(t, RedisOptions{})
}

// StartRedisWith is StartRedis with options.
func StartRedisWith(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Missing(t, "redis-server", "tests of the redis intake and transport need a real Redis 7")
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), appendOnly: opts.AppendOnly}
	var lastErr error
	for range 5 { // a free port found by listening may be taken before redis binds it
		port, err := freePort()
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		r.port = port
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		r.URL = "redis://" + r.Addr + "/0"
		if lastErr = r.start(); lastErr == nil {
			t.Cleanup(r.Stop)
			return r
		}
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (r *Redis) start() error {
	aof := []string{"--appendonly", "no"}
	if r.appendOnly {
		aof = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--save", "", "--protected-mode", "yes",
		"--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no"}, aof...)
	cmd := exec.Command(r.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", r.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(r.Addr) == nil {
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
			return fmt.Errorf("redis-server on port %d exited: %s", r.port, lastLines(log, 5))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s", r.port)
		}
	}
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	return nil
}

// Stop kills the server (as an outage would) and waits for it to exit. Data
// is lost unless the server was started with AppendOnly. Stop on a stopped
// server does nothing.
func (r *Redis) Stop() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts a stopped server again on the same port (empty, unless
// AppendOnly).
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	var err error
	for range 50 { // the port can stay busy for a moment after the kill
		if err = r.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("restart redis-server: %v", err)
}

// Do runs one command on a fresh connection and returns the raw reply line
// (for tests that need no client library).
func (r *Redis) Do(ctx context.Context, args ...string) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", r.Addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", fmt.Errorf("write to %s: %w", r.Addr, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read from %s: %w", r.Addr, err)
	}
	return string(bytes.TrimRight([]byte(line), "\r\n")), nil
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
