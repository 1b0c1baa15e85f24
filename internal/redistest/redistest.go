// Package redistest runs a real redis-server for tests: on a free port, in the test's temporary
// directory, with AOF on and fsynced on every write (appendfsync always), so that even a
// SIGKILL loses nothing acknowledged. A test fails, never skips, when redis-server is not
// installed (`make deps` installs it).
package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	Addr    string // host:port
	Dir     string // data directory (AOF lives here)
	t       testing.TB
	cmd     *exec.Cmd
	cluster bool
	extra   []string // more arguments (a replica's --replicaof)
	// sentinelConf is the config file of a sentinel (run with --sentinel, which rewrites it).
	sentinelConf string
}

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Start starts redis-server and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (run `make deps`, or apt-get install redis-server): %v", err)
	}
	s := &Server{Dir: t.TempDir(), t: t, Addr: freeAddr(t)}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *Server) start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", s.Dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--logfile", filepath.Join(s.Dir, "redis.log")}
	if s.sentinelConf != "" {
		args = []string{s.sentinelConf, "--sentinel", "--port", port, "--bind", "127.0.0.1", "--dir", s.Dir,
			"--daemonize", "no", "--logfile", filepath.Join(s.Dir, "redis.log")}
	}
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(s.Dir, "nodes.conf"))
	}
	args = append(args, s.extra...)
	s.cmd = exec.Command("redis-server", args...)
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	s.t.Fatalf("redis-server on %s did not answer PING within 10s; log:\n%s", s.Addr, log)
}

// ping reports whether a server answers PING with PONG (and has finished loading the AOF).
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprint(c, "PING\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop shuts the server down (SIGTERM: Redis flushes the AOF) and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Kill ends the server abruptly (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and data directory, after Stop or Kill.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.Stop()
	}
	s.start()
}

// StartCluster starts a one-node Redis Cluster (cluster mode on, all 16,384 slots on this
// node): enough to prove that every multi-key command and script of an environment stays in
// one slot, which Cluster refuses otherwise (CROSSSLOT). Its URL is redis-cluster://.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (run `make deps`, or apt-get install redis-server): %v", err)
	}
	s := &Server{Dir: t.TempDir(), t: t, Addr: freeAddr(t), cluster: true}
	s.start()
	t.Cleanup(s.Stop)
	if reply := command(t, s.Addr, "CLUSTER", "ADDSLOTSRANGE", "0", "16383"); !strings.HasPrefix(reply, "+OK") {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %q", reply)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(command(t, s.Addr, "CLUSTER", "INFO"), "cluster_state:ok") {
		if time.Now().After(deadline) {
			t.Fatal("one-node cluster did not reach cluster_state:ok")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// ClusterURL is the redis-cluster:// URL of a server started by StartCluster.
func (s *Server) ClusterURL() string { return "redis-cluster://" + s.Addr }

// Sentinel is a Sentinel deployment: a master, one replica of it, and one sentinel that
// watches them as MasterName and promotes the replica when the master is down for a second.
type Sentinel struct {
	Master, Replica *Server
	Sentinel        *Server
}

// MasterName is the name the sentinel monitors the master under.
const MasterName = "vexil"

// StartSentinel starts a master, its replica and a sentinel, and stops them when the test ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	d := &Sentinel{Master: Start(t)}
	_, mport, _ := net.SplitHostPort(d.Master.Addr)
	d.Replica = &Server{Dir: t.TempDir(), t: t, Addr: freeAddr(t), extra: []string{"--replicaof", "127.0.0.1", mport}}
	d.Replica.start()
	t.Cleanup(d.Replica.Stop)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor "+MasterName+" 127.0.0.1 "+mport+" 1\n"+
		"sentinel down-after-milliseconds "+MasterName+" 1000\n"+
		"sentinel failover-timeout "+MasterName+" 10000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Sentinel = &Server{Dir: dir, t: t, Addr: freeAddr(t), sentinelConf: conf}
	d.Sentinel.start()
	t.Cleanup(d.Sentinel.Stop)
	// The sentinel learns of the replica from the master (INFO, every ten seconds at first);
	// a failover before then would find no replica to promote.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.HasPrefix(command(t, d.Master.Addr, "WAIT", "1", "100"), ":1") ||
		!strings.HasPrefix(command(t, d.Sentinel.Addr, "SENTINEL", "REPLICAS", MasterName), "*1") {
		if time.Now().After(deadline) {
			t.Fatal("the sentinel did not see the replica within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// URL is the redis-sentinel:// URL of the deployment.
func (d *Sentinel) URL() string {
	return "redis-sentinel://" + d.Sentinel.Addr + "?master_name=" + MasterName
}

// MasterAddr returns the address the sentinel currently names as the master.
func (d *Sentinel) MasterAddr() string {
	d.Sentinel.t.Helper()
	line := commandLines(d.Sentinel.t, d.Sentinel.Addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName)
	if len(line) != 2 {
		return ""
	}
	return net.JoinHostPort(line[0], line[1])
}

// Synced waits until the replica has every write the master acknowledged (WAIT), so that a
// failover loses nothing: Redis replicates asynchronously.
func (d *Sentinel) Synced() {
	d.Master.t.Helper()
	if reply := command(d.Master.t, d.Master.Addr, "WAIT", "1", "5000"); !strings.HasPrefix(reply, ":1") {
		d.Master.t.Fatalf("WAIT 1: %q", reply)
	}
}

// commandLines sends one command and returns its reply's elements when it is an array of
// bulk strings (nil otherwise).
func commandLines(t testing.TB, addr string, args ...string) []string {
	t.Helper()
	_, items := roundTrip(t, addr, args)
	return items
}

// command sends one command in RESP and returns the reply's first line, or the bulk string.
func command(t testing.TB, addr string, args ...string) string {
	t.Helper()
	line, _ := roundTrip(t, addr, args)
	return line
}

// roundTrip sends one command and reads its reply: the first line (a bulk string's content
// instead of its header), and the elements of an array of bulk strings.
func roundTrip(t testing.TB, addr string, args []string) (string, []string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c, "$%d\r\n%s\r\n", len(a), a)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	bulk := func(header string) (string, bool) {
		var n int
		if _, err := fmt.Sscanf(header, "$%d", &n); err != nil || n < 0 {
			return "", false
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		return string(buf[:n]), true
	}
	switch {
	case strings.HasPrefix(line, "$"):
		s, _ := bulk(line)
		return s, nil
	case strings.HasPrefix(line, "*"):
		var n int
		fmt.Sscanf(line, "*%d", &n)
		var items []string
		for range n {
			header, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			s, ok := bulk(header)
			if !ok {
				return line, nil // nested arrays: only the first line is read
			}
			items = append(items, s)
		}
		return line, items
	}
	return line, nil
}
