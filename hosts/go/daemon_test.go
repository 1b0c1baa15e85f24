package vexil

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/daemon"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

const adminToken = "test-admin-token-0123456789"

// startRedis runs a real redis-server on a free port in a temporary directory until the test
// ends.
func startRedis(t testing.TB) string { return redistest.Start(t).URL() }

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// testDaemon is a real sync daemon serving HTTP on addr.
type testDaemon struct {
	addr string
	d    *daemon.Daemon
	srv  *http.Server
	once sync.Once
}

// startDaemon starts a daemon on redisURL listening on addr (which may have been used by a
// daemon stopped before: a restarted daemon comes back at the same address).
func startDaemon(t testing.TB, redisURL, addr string) *testDaemon {
	t.Helper()
	d, err := daemon.New(daemon.Config{RedisURL: redisURL, Listen: addr, AdminTokens: "ci=" + adminToken})
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if l, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	td := &testDaemon{addr: addr, d: d, srv: &http.Server{Handler: d.Handler()}}
	go func() { _ = td.srv.Serve(l) }()
	t.Cleanup(td.stop)
	return td
}

// stop ends the streams (each gets a reconnect event), then the server.
func (td *testDaemon) stop() {
	td.once.Do(func() {
		_ = td.d.Close()
		_ = td.srv.Close()
	})
}

// onFlag is an enabled boolean flag serving true (false when disabled).
func onFlag(key string) *flagdoc.Flag {
	zero, one := 0, 1
	return &flagdoc.Flag{Key: key, Enabled: true, Variations: []json.RawMessage{json.RawMessage("false"), json.RawMessage("true")},
		OffVariation: &zero, Fallthrough: &flagdoc.Serve{Variation: &one}}
}

// envVersion is the environment's version as the admin API reads it from Redis.
func envVersion(t *testing.T, admin *client.Client) int64 {
	t.Helper()
	s, err := admin.Snapshot(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version int64 }
	if err := json.Unmarshal(s, &v); err != nil {
		t.Fatal(err)
	}
	return v.Version
}

func TestDaemonSourceEndToEnd(t *testing.T) {
	for _, engine := range []Engine{EngineWasm, EngineNative} {
		t.Run(engine.String(), func(t *testing.T) { testDaemonSource(t, engine) })
	}
}

func testDaemonSource(t *testing.T, engine Engine) {
	ctx := context.Background()
	redisURL := startRedis(t)
	addr := freeAddr(t)
	url := "http://" + addr
	a := startDaemon(t, redisURL, addr)
	admin := client.New(url, adminToken)
	_, keys, err := admin.CreateEnvironment(ctx, "test", "tests")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateFlag(ctx, "test", onFlag("checkout")); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := []Option{WithEngine(engine), WithDaemon(url, keys.Server), WithOfflineCache(cache),
		WithDaemonBackoff(20*time.Millisecond, 200*time.Millisecond)}
	user := Context{TargetingKey: "user-1"}

	// READY with the daemon's snapshot.
	c, err := New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.Status(); st.State != StateReady || st.Version != envVersion(t, admin) {
		t.Fatalf("after New: %+v, want READY at version %d", st, envVersion(t, admin))
	}
	if !c.Bool(user, "checkout", false) {
		t.Fatal("checkout: want true from the daemon's snapshot")
	}
	changes := make(chan Change, 16)
	c.OnChange(func(ch Change) { changes <- ch })

	// A flag flipped through the admin API reaches checks and OnChange.
	if _, err := admin.FlagVerb(ctx, "test", "checkout", "disable", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "checkout off", func() bool { return !c.Bool(user, "checkout", true) })
	select {
	case ch := <-changes:
		if !slices.Contains(ch.Keys, "checkout") || ch.NewVersion != envVersion(t, admin) {
			t.Errorf("change %+v, want checkout up to version %d", ch, envVersion(t, admin))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnChange within 5s")
	}

	// The patched snapshot is the daemon's snapshot of that version, byte for byte.
	if got, want := c.gen.Load().data, daemonSnapshot(t, url, keys.Server); string(got) != string(want) {
		t.Errorf("after the patch the client serves\n%s\nthe daemon's snapshot is\n%s", got, want)
	}

	// Daemon stopped: STALE, values kept.
	a.stop()
	waitFor(t, "STALE", func() bool { return c.Status().State == StateStale })
	if c.Bool(user, "checkout", true) {
		t.Error("while STALE: checkout changed")
	}
	if st := c.Status(); !strings.Contains(st.Reason, "daemon "+url) {
		t.Errorf("STALE reason %q does not name the daemon", st.Reason)
	}

	// Changes made while it is away (through another daemon on the same Redis).
	other := startDaemon(t, redisURL, freeAddr(t))
	otherAdmin := client.New("http://"+other.addr, adminToken)
	if _, err := otherAdmin.FlagVerb(ctx, "test", "checkout", "enable", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := otherAdmin.CreateFlag(ctx, "test", onFlag("extra")); err != nil {
		t.Fatal(err)
	}
	want := envVersion(t, otherAdmin)
	time.Sleep(100 * time.Millisecond) // a few reconnect attempts fail meanwhile
	if st := c.Status(); st.State != StateStale || c.Bool(user, "checkout", true) {
		t.Fatalf("with the daemon away: %+v, checkout %v", st, c.Bool(user, "checkout", true))
	}

	// A new daemon at the same address: READY and converged, with the changes made meanwhile.
	b := startDaemon(t, redisURL, addr)
	waitFor(t, "READY at the latest version", func() bool {
		st := c.Status()
		return st.State == StateReady && st.Version == want
	})
	if !c.Bool(user, "checkout", false) || !c.Bool(user, "extra", false) {
		t.Error("after the daemon came back: checkout and extra should be on")
	}
	if got, want := c.gen.Load().data, daemonSnapshot(t, url, keys.Server); string(got) != string(want) {
		t.Errorf("after the daemon came back the client serves\n%s\nthe daemon's snapshot is\n%s", got, want)
	}
	sourceRunning := func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		return strings.Contains(stacks, "internal/source.(*Daemon)") || strings.Contains(stacks, "internal/source.(*daemonRun)")
	}
	if !sourceRunning() {
		t.Fatal("no daemon source goroutine found while the client runs: the leak check below would prove nothing")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the daemon source's goroutines to end", func() bool { return !sourceRunning() })

	// Offline cache, daemon down at start: STALE from the cache.
	b.stop()
	c2, err := New(ctx, opts...)
	if err != nil {
		t.Fatalf("New with the daemon down and a cache: %v", err)
	}
	defer c2.Close()
	if st := c2.Status(); st.State != StateStale || st.Version != want || !strings.Contains(st.Reason, "offline cache") {
		t.Errorf("started from the cache: %+v, want STALE at %d from the offline cache", st, want)
	}
	if !c2.Bool(user, "extra", false) {
		t.Error("from the cache: extra should be on")
	}
	// The daemon back: READY (the 304 on the cached version confirms it).
	startDaemon(t, redisURL, addr)
	waitFor(t, "READY after the cache", func() bool { return c2.Status().State == StateReady })
	if v := c2.Version(); v != want {
		t.Errorf("version %d, want %d", v, want)
	}
}

// daemonSnapshot is GET /sdk/v1/snapshot with a server key.
func daemonSnapshot(t *testing.T, url, key string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/sdk/v1/snapshot", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sdk/v1/snapshot: %d %s %v", resp.StatusCode, body, err)
	}
	return body
}

func TestDaemonSourceBadKey(t *testing.T) {
	ctx := context.Background()
	redisURL := startRedis(t)
	addr := freeAddr(t)
	startDaemon(t, redisURL, addr)
	admin := client.New("http://"+addr, adminToken)
	if _, _, err := admin.CreateEnvironment(ctx, "test", "tests"); err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, WithEngine(EngineNative), WithDaemon("http://"+addr, "vx_server_not-a-key"),
		WithDaemonBackoff(20*time.Millisecond, 100*time.Millisecond))
	var nr *NotReadyError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("New with a bad key: %v, want a NotReadyError naming HTTP 401", err)
	}
	defer c.Close()
	if st := c.Status(); st.State != StateError || !strings.Contains(st.Reason, "401") {
		t.Errorf("status %+v, want ERROR naming the 401", st)
	}
	if v, d := c.BoolDetail(Context{TargetingKey: "u"}, "any", true); !v || d.Err == nil {
		t.Errorf("a check with no snapshot: %v %+v, want the default and an error", v, d)
	}
}

func TestWithDaemonOptions(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{[]Option{WithDaemon("vexil:8080", "vx_server_x")}, "WithDaemon: url"},
		{[]Option{WithDaemon("http://vexil:8080", "")}, "WithDaemon: empty server key"},
		{[]Option{WithDaemon("http://vexil:8080", "vx_client_x")}, "client key"},
		{[]Option{WithDaemon("http://vexil:8080", "vx_server_x"), WithDaemonBackoff(time.Second, time.Millisecond)}, "WithDaemonBackoff"},
		{[]Option{WithDaemon("http://vexil:8080", "vx_server_x"), WithSnapshot([]byte("{}"))}, "more than one source: give one of WithDaemon"},
	} {
		_, err := New(context.Background(), tc.opts...)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want a ConfigError containing %q", err, tc.want)
		}
	}
}

// BenchmarkDaemonPropagation is one change through the admin API until the client serves it:
// the admin write to Redis, the daemon's follow and patch, the stream, the patch applied and
// the snapshot loaded and swapped in (one small snapshot).
func BenchmarkDaemonPropagation(b *testing.B) {
	for _, engine := range []Engine{EngineWasm, EngineNative} {
		b.Run(engine.String(), func(b *testing.B) {
			ctx := context.Background()
			redisURL := startRedis(b)
			addr := freeAddr(b)
			startDaemon(b, redisURL, addr)
			admin := client.New("http://"+addr, adminToken)
			_, keys, err := admin.CreateEnvironment(ctx, "test", "tests")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := admin.CreateFlag(ctx, "test", onFlag("checkout")); err != nil {
				b.Fatal(err)
			}
			c, err := New(ctx, WithEngine(engine), WithPoolSize(1), WithDaemon("http://"+addr, keys.Server))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			versions := make(chan int64, 16)
			c.OnChange(func(ch Change) { versions <- ch.NewVersion })
			b.ResetTimer()
			for b.Loop() {
				st, err := admin.FlagVerb(ctx, "test", "checkout", "toggle", nil)
				if err != nil {
					b.Fatal(err)
				}
				for v := int64(-1); v < int64(st.Version); {
					select {
					case v = <-versions:
					case <-time.After(5 * time.Second):
						b.Fatalf("version %d not served within 5s", st.Version)
					}
				}
			}
		})
	}
}
