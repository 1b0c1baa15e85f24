package sdkapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/daemon"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/stream"
)

// changes makes n changes of every kind through the admin API: flag creates, updates,
// toggles, deletes, segment writes and member changes. It returns the last version.
func changes(t *testing.T, c *client.Client, n int, tag string) uint64 {
	t.Helper()
	ctx := context.Background()
	var last uint64
	note := func(v uint64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		last = v
	}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%s-%d", tag, i%7)
		switch i % 5 {
		case 0, 1:
			f := boolFlag(key)
			f.Description = fmt.Sprint("change ", i)
			f.Targets = []flagdoc.Target{{Variation: 1, Values: []string{fmt.Sprintf("user-%d@example.com", i)}}}
			fs, err := c.Flag(ctx, "test", key)
			if err == nil {
				fs, err = c.UpdateFlag(ctx, "test", f, nil)
			} else {
				fs, err = c.CreateFlag(ctx, "test", f)
			}
			note(fs.Version, err)
		case 2:
			fs, err := c.Flag(ctx, "test", key)
			if err != nil {
				fs, err = c.CreateFlag(ctx, "test", boolFlag(key))
				note(fs.Version, err)
				continue
			}
			fs, err = c.FlagVerb(ctx, "test", key, "toggle", nil)
			note(fs.Version, err)
		case 3:
			seg := &flagdoc.Segment{Key: tag + "-seg", Included: []string{fmt.Sprint("member-", i)}}
			ss, err := c.Segment(ctx, "test", seg.Key)
			if err == nil {
				ss, err = c.UpdateSegment(ctx, "test", seg, nil)
			} else {
				ss, err = c.CreateSegment(ctx, "test", seg)
			}
			note(ss.Version, err)
		case 4:
			if fs, err := c.Flag(ctx, "test", key); err == nil {
				_ = fs
				fs, err = c.DeleteFlag(ctx, "test", key)
				note(fs.Version, err)
			} else {
				fs, err = c.CreateFlag(ctx, "test", boolFlag(key))
				note(fs.Version, err)
			}
		}
	}
	return last
}

func TestFanOut200Subscribers(t *testing.T) {
	e := start(t)
	changes(t, e.admin, 3, "pre") // subscribers start from a non-empty state
	const n = 200
	hosts := make([]*host, n)
	for i := range hosts {
		hosts[i] = newHost(t, e.keys.Server)
		if _, err := hosts[i].connect(e.srv.URL, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	for e.d.Hub().Subscribers("test", stream.Server) < n {
		time.Sleep(5 * time.Millisecond)
	}
	final := changes(t, e.admin, 40, "f")
	want := e.adminSnapshot()
	for i, h := range hosts {
		if !h.waitVersion(final, 20*time.Second) {
			t.Fatalf("host %d stuck at version %d, want %d", i, h.current(), final)
		}
		h.checkOrder(fmt.Sprint("host ", i))
		if got := h.snapshot(); got != want {
			t.Fatalf("host %d snapshot differs from the daemon's:\n got %s\nwant %s", i, got, want)
		}
		if h.snaps != 1 || uint64(h.patches) != final-h.first {
			t.Fatalf("host %d: %d snapshots, %d patches; want 1 and %d", i, h.snaps, h.patches, final-h.first)
		}
	}
}

func TestTwoDaemonsOneRedis(t *testing.T) {
	e := start(t)
	_, srvB := newDaemon(t, e.redis.URL())
	h := newHost(t, e.keys.Server)
	if _, err := h.connect(srvB.URL, false, nil); err != nil {
		t.Fatal(err)
	}
	v := changes(t, e.admin, 12, "ab") // written through daemon A
	if !h.waitVersion(v, 10*time.Second) {
		t.Fatalf("daemon B streamed up to %d, want %d", h.current(), v)
	}
	h.checkOrder("host on B")
	if got, want := h.snapshot(), e.adminSnapshot(); got != want {
		t.Fatalf("snapshot via B:\n got %s\nwant %s", got, want)
	}
}

func TestResumeWithLastEventID(t *testing.T) {
	e := start(t)
	changes(t, e.admin, 2, "r")
	h := newHost(t, e.keys.Server)
	done, err := h.connect(e.srv.URL, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := changes(t, e.admin, 3, "r")
	if !h.waitVersion(v, 10*time.Second) {
		t.Fatal("no patches")
	}
	e.srv.CloseClientConnections() // the connection drops
	<-done
	v = changes(t, e.admin, 5, "r2") // missed while away
	if _, err := h.connect(e.srv.URL, true, nil); err != nil {
		t.Fatal(err)
	}
	if !h.waitVersion(v, 10*time.Second) {
		t.Fatalf("resumed host at %d, want %d", h.current(), v)
	}
	h.checkOrder("resumed host")
	if h.snaps != 1 || uint64(h.patches) != v-h.first {
		t.Fatalf("%d snapshots and %d patches, want 1 and %d (the missed ones, no second snapshot)", h.snaps, h.patches, v-h.first)
	}
	if got, want := h.snapshot(), e.adminSnapshot(); got != want {
		t.Fatalf("snapshot:\n got %s\nwant %s", got, want)
	}

	// Current Last-Event-ID: nothing until the next change.
	h2 := newHost(t, e.keys.Server)
	if _, err := h2.connect(e.srv.URL, false, nil); err != nil {
		t.Fatal(err)
	}
	h2.waitVersion(v, 5*time.Second)
	quiet := h2.clone()
	if _, err := quiet.connect(e.srv.URL, true, nil); err != nil {
		t.Fatal(err)
	}
	v = changes(t, e.admin, 1, "q")
	if !quiet.waitVersion(v, 5*time.Second) {
		t.Fatal("no patch after a current resume")
	}
	if quiet.snaps != 0 || quiet.patches != 1 {
		t.Fatalf("current resume: %d snapshots, %d patches; want 0 and 1", quiet.snaps, quiet.patches)
	}

	// An unknown (too old or malformed) Last-Event-ID gets the full state.
	for _, id := range []string{"0", "junk"} {
		old := newHost(t, e.keys.Server)
		if _, err := old.connect(e.srv.URL, false, map[string]string{"Last-Event-ID": id}); err != nil {
			t.Fatal(err)
		}
		if !old.waitVersion(v, 5*time.Second) || old.snaps != 1 {
			t.Fatalf("Last-Event-ID %q: %d snapshots, version %d", id, old.snaps, old.current())
		}
	}
}

// A daemon shut down gracefully tells every stream to reconnect; the hosts resume on another
// daemon with Last-Event-ID and lose nothing.
func TestShutdownSendsReconnect(t *testing.T) {
	e := start(t)
	d, err := daemon.New(daemon.Config{RedisURL: e.redis.URL(), Listen: "127.0.0.1:0", AdminTokens: "ci=" + token, Drain: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- d.Serve(ctx, func(a net.Addr) { addr <- a }) }()
	base := "http://" + (<-addr).String()
	// The daemon the hosts move to follows the environment from now on (a request starts it
	// at once; otherwise discovery would, within 2s), so it can resume them with patches.
	if code, _, _ := get(t, e.srv.URL+"/sdk/v1/snapshot", bearer(e.keys.Server)); code != 200 {
		t.Fatal(code)
	}
	hosts := make([]*host, 20)
	for i := range hosts {
		hosts[i] = newHost(t, e.keys.Server)
		if _, err := hosts[i].connect(base, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	v := changes(t, e.admin, 2, "s")
	for _, h := range hosts {
		if !h.waitVersion(v, 5*time.Second) {
			t.Fatal("no patches before shutdown")
		}
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("Serve did not return: streams held up the shutdown")
	}
	for i, h := range hosts {
		if ended := h.waitEnded(1, 5*time.Second); len(ended) != 1 || ended[0] != stream.ReasonShutdown {
			t.Fatalf("host %d: streams ended %v, want [shutdown]", i, ended)
		}
	}
	v = changes(t, e.admin, 3, "s2")
	for i, h := range hosts {
		if _, err := h.connect(e.srv.URL, true, nil); err != nil {
			t.Fatal(err)
		}
		if !h.waitVersion(v, 5*time.Second) {
			t.Fatalf("host %d at %d after moving daemons, want %d", i, h.current(), v)
		}
		h.checkOrder(fmt.Sprint("host ", i))
	}
	if got, want := hosts[0].snapshot(), e.adminSnapshot(); got != want {
		t.Fatalf("snapshot:\n got %s\nwant %s", got, want)
	}
}

// Redis killed (SIGKILL) and restarted mid-stream, then the daemon killed and replaced: every
// acknowledged change reaches the hosts, which converge on the latest version.
func TestRedisAndDaemonRestart(t *testing.T) {
	r := redistest.Start(t)
	d1, srv1 := newDaemon(t, r.URL())
	_ = d1
	admin := client.New(srv1.URL, token)
	ctx := context.Background()
	_, keys, err := admin.CreateEnvironment(ctx, "test", "tests")
	if err != nil {
		t.Fatal(err)
	}
	hosts := make([]*host, 10)
	for i := range hosts {
		hosts[i] = newHost(t, keys.Server)
		if _, err := hosts[i].connect(srv1.URL, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	v := changes(t, admin, 4, "k")
	acked, err := admin.Snapshot(ctx, "test") // everything acknowledged before the crash
	if err != nil {
		t.Fatal(err)
	}
	r.Kill()
	// While Redis is down the streams stay open and the snapshot is still served.
	if code, _, _ := get(t, srv1.URL+"/sdk/v1/snapshot", bearer(keys.Server)); code != 200 {
		t.Fatalf("snapshot during the outage: %d", code)
	}
	time.Sleep(300 * time.Millisecond)
	r.Restart()
	// Writes succeed again once go-redis reconnects.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := admin.Environment(ctx, "test")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin API after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	v = changes(t, admin, 4, "k2")
	for i, h := range hosts {
		if !h.waitVersion(v, 15*time.Second) {
			t.Fatalf("host %d at %d after the Redis restart, want %d", i, h.current(), v)
		}
		h.checkOrder(fmt.Sprint("host ", i))
	}
	// The daemon dies without a goodbye; the hosts move to a fresh daemon.
	srv1.CloseClientConnections()
	srv1.Close()
	_ = d1.Close()
	_, srv2 := newDaemon(t, r.URL())
	admin2 := client.New(srv2.URL, token)
	v = changes(t, admin2, 3, "k3")
	for i, h := range hosts {
		if _, err := h.connect(srv2.URL, true, nil); err != nil {
			t.Fatal(err)
		}
		if !h.waitVersion(v, 10*time.Second) {
			t.Fatalf("host %d at %d on the new daemon, want %d", i, h.current(), v)
		}
	}
	raw, err := admin2.Snapshot(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	snap := strings.TrimSpace(string(raw))
	for i, h := range hosts {
		if got := h.snapshot(); got != snap {
			t.Fatalf("host %d:\n got %s\nwant %s", i, got, snap)
		}
		// The new daemon had no history: resumption gave a snapshot, never a gap.
		if h.gaps != 0 {
			t.Fatalf("host %d: %d gaps", i, h.gaps)
		}
	}
	for _, key := range []string{`"key":"k-0"`, `"key":"k-1"`, `"key":"k-2"`, `"key":"k-seg"`} {
		if !strings.Contains(string(acked), key) || !strings.Contains(snap, key) {
			t.Fatalf("acknowledged document %s missing after the crash: %s", key, snap)
		}
	}
	if !strings.Contains(snap, `"version":`+fmt.Sprint(v)) {
		t.Fatalf("final snapshot is not at version %d: %s", v, snap)
	}
}

// Deleting an environment ends its streams with reason environment-deleted; its keys stop
// working.
func TestEnvironmentDeletedEndsStreams(t *testing.T) {
	e := start(t)
	h := newHost(t, e.keys.Server)
	if _, err := h.connect(e.srv.URL, false, nil); err != nil {
		t.Fatal(err)
	}
	// A browser's EventSource: client key in the query, CORS on the stream.
	code, hdr, _ := getHead(t, e.srv.URL+"/sdk/v1/stream?key="+e.keys.Client)
	if code != 200 || hdr.Get("Content-Type") != "text/event-stream" || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("client stream: %d %v", code, hdr)
	}
	if err := e.admin.DeleteEnvironment(e.ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if ended := h.waitEnded(1, 10*time.Second); len(ended) != 1 || ended[0] != stream.ReasonDeleted {
		t.Fatalf("stream ended %v, want [%s]", ended, stream.ReasonDeleted)
	}
	if code, _, _ := get(t, e.srv.URL+"/sdk/v1/snapshot", bearer(e.keys.Server)); code != 401 {
		t.Fatalf("key of a deleted environment: %d", code)
	}
}

// getHead opens a GET and returns its status and headers without reading the body.
func getHead(t *testing.T, url string) (int, http.Header, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp.StatusCode, resp.Header, nil
}
