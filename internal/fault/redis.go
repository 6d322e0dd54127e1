package fault

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	envRequire = "PASSERELLE_TEST_REQUIRE_REDIS"
	envCluster = "PASSERELLE_TEST_REDIS_CLUSTER"
)

// Redis is a redis-server of the test's own, on a free loopback port,
// with append-only persistence (fsync always) in a temporary directory.
// Stop and Start restart it on the same port and data.
type Redis struct {
	t    testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartRedis starts a server, stopped at the end of the test, or skips
// the test when redis-server is not installed (fails it when
// PASSERELLE_TEST_REQUIRE_REDIS=1).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("redis-server is not installed, and %s=1 requires the Redis fault tests", envRequire)
		}
		t.Skip("fault tests on Redis skipped: redis-server is not installed (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Redis{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.Start()
	t.Cleanup(func() {
		if s.cmd != nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	return s
}

// URL is the server's redis:// URL.
func (s *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Start starts the server on its port and directory (loading its
// append-only file) and waits until it answers.
func (s *Redis) Start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(s.port), "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port), MaxRetries: -1})
	defer c.Close()
	for i := 0; ; i++ { // a watchdog on the server's start, not a timer the test waits for
		if c.Ping(s.t.Context()).Err() == nil {
			return
		}
		if i == 200 {
			s.t.Fatalf("redis-server on port %d did not start", s.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down as a restart does (SIGTERM: it flushes its
// append-only file and exits) and waits until it is gone.
func (s *Redis) Stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Wait()
	s.cmd = nil
}
