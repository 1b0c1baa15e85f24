package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// script is an httptest daemon whose snapshot and stream the test controls.
type script struct {
	t      *testing.T
	mu     sync.Mutex
	snap   []byte // served by /sdk/v1/snapshot
	status int    // answer /sdk/v1/snapshot with this status when not 0
	reqs   []string
	conns  chan chan string // each stream connection takes the next channel; "" closes it
	srv    *httptest.Server
}

func newScript(t *testing.T) *script {
	s := &script{t: t, conns: make(chan chan string, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *script) log(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := r.URL.Path + " auth=" + r.Header.Get("Authorization")
	if r.URL.Path == "/sdk/v1/snapshot" && !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		line += " (no gzip)"
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		line += " if-none-match=" + v
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		line += " last-event-id=" + v
	}
	s.reqs = append(s.reqs, line)
}

func (s *script) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func (s *script) set(snap []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap, s.status = snap, status
}

func (s *script) serve(w http.ResponseWriter, r *http.Request) {
	s.log(r)
	switch r.URL.Path {
	case "/sdk/v1/snapshot":
		s.mu.Lock()
		snap, status := s.snap, s.status
		s.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, `{"code":"unauthorized","message":"unknown SDK key"}`)
			return
		}
		var v struct{ Version int64 }
		_ = json.Unmarshal(snap, &v)
		etag := `"` + strconv.FormatInt(v.Version, 10) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(snap)
	case "/sdk/v1/stream":
		var events chan string
		select {
		case events = <-s.conns:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case ev := <-events:
				if ev == "" {
					return
				}
				fmt.Fprint(w, ev)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	default:
		http.NotFound(w, r)
	}
}

// conn prepares the next stream connection and returns its event channel.
func (s *script) conn() chan string {
	ch := make(chan string, 16)
	s.conns <- ch
	return ch
}

// daemonSink is a Sink that serves what it is given, as the client does.
type daemonSink struct {
	mu      sync.Mutex
	data    []byte
	version int64
	events  []string
	changed chan struct{}
}

func newDaemonSink() *daemonSink { return &daemonSink{version: -1, changed: make(chan struct{}, 1)} }

func (k *daemonSink) record(s string) {
	k.events = append(k.events, s)
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

func (k *daemonSink) Snapshot(data []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var v struct{ Version int64 }
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	k.data, k.version = slices.Clone(data), v.Version
	k.record("snapshot " + string(data))
	return nil
}

func (k *daemonSink) Failure(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.record("failure " + err.Error())
}

func (k *daemonSink) Confirm(v int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.record("confirm " + strconv.FormatInt(v, 10))
}

func (k *daemonSink) Current() ([]byte, int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.data, k.version
}

// next waits up to 5 s for the event after index *n that starts with prefix and returns it;
// events in between must start with one of the allowed prefixes.
func (k *daemonSink) next(t *testing.T, n *int, prefix string, allowed ...string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		k.mu.Lock()
		for *n < len(k.events) {
			ev := k.events[*n]
			*n++
			if strings.HasPrefix(ev, prefix) {
				k.mu.Unlock()
				return ev
			}
			ok := false
			for _, a := range allowed {
				ok = ok || strings.HasPrefix(ev, a)
			}
			if !ok {
				k.mu.Unlock()
				t.Fatalf("want %q, got unexpected event %q", prefix, ev)
			}
		}
		k.mu.Unlock()
		select {
		case <-k.changed:
		case <-deadline:
			t.Fatalf("no %q event within 5s; events: %q", prefix, k.all())
		}
	}
}

func (k *daemonSink) all() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.events)
}

// snap assembles a snapshot as the daemon does (flagdoc.Assemble), from key → variation pairs.
func snap(version uint64, flags ...string) []byte {
	var docs []flagdoc.Doc
	for _, f := range flags {
		docs = append(docs, flagdoc.Doc{Key: f, JSON: []byte(flagJSON(f))})
	}
	slices.SortFunc(docs, func(a, b flagdoc.Doc) int { return strings.Compare(a.Key, b.Key) })
	return flagdoc.Assemble("test", version, docs, []flagdoc.Doc{{Key: "staff", JSON: []byte(`{"key":"staff","included":["u1"]}`)}})
}

// flagJSON is a flag document; "name=2" gives flag name with fallthrough variation 2.
func flagJSON(f string) string {
	key, v, _ := strings.Cut(f, "=")
	if v == "" {
		v = "0"
	}
	return `{"key":"` + key + `","enabled":true,"variations":[0,1,2],"fallthrough":{"variation":` + v + `}}`
}

func patchEvent(prev, v int, flags string) string {
	return fmt.Sprintf("id: %d\nevent: patch\ndata: {\"environment\":\"test\",\"previousVersion\":%d,\"version\":%d,\"flags\":{%s},\"segments\":{}}\n\n", v, prev, v, flags)
}

func TestDaemonPatchesGapsAndReconnects(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newScript(t)
	s.set(snap(1, "a", "b"), 0)
	c1 := s.conn()
	k := newDaemonSink()
	d := &Daemon{URL: s.srv.URL + "/", Key: "vx_server_k", MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx, k); close(done) }()
	n := 0

	// First: the snapshot as served (unconditional), then the stream from its version.
	if ev := k.next(t, &n, "snapshot"); ev != "snapshot "+string(snap(1, "a", "b")) {
		t.Fatalf("first delivery %q", ev)
	}
	k.next(t, &n, "confirm 1")

	// A patch changing a, removing b, adding c: the result is the daemon's snapshot of v2, byte for byte.
	c1 <- patchEvent(1, 2, `"a":`+flagJSON("a=1")+`,"b":null,"c":`+flagJSON("c"))
	if ev, want := k.next(t, &n, "snapshot"), "snapshot "+string(snap(2, "a=1", "c")); ev != want {
		t.Fatalf("after patch 2:\n got %s\nwant %s", ev, want)
	}
	// Duplicates and an already-held version are ignored; comments too. Then the next patch applies.
	c1 <- patchEvent(1, 2, `"zzz":`+flagJSON("zzz"))
	c1 <- ": comment\n\n"
	c1 <- "event: heartbeat\ndata: {\"version\":2}\n\n"
	c1 <- patchEvent(2, 3, `"d":`+flagJSON("d=2"))
	if ev, want := k.next(t, &n, "snapshot"), "snapshot "+string(snap(3, "a=1", "c", "d=2")); ev != want {
		t.Fatalf("after duplicates and patch 3:\n got %s\nwant %s", ev, want)
	}

	// A gap (5→6 while at 3): the snapshot is fetched again, conditional on 3; the stream goes on.
	s.set(snap(6, "a=2"), 0)
	c1 <- patchEvent(5, 6, `"a":`+flagJSON("a=2"))
	if ev := k.next(t, &n, "snapshot"); ev != "snapshot "+string(snap(6, "a=2")) {
		t.Fatalf("after the gap: %s", ev)
	}
	c1 <- patchEvent(6, 7, `"e":`+flagJSON("e"))
	if ev, want := k.next(t, &n, "snapshot"), "snapshot "+string(snap(7, "a=2", "e")); ev != want {
		t.Fatalf("after the gap, patch 7:\n got %s\nwant %s", ev, want)
	}
	// A heartbeat ahead of the version held is a gap too.
	s.set(snap(9, "f"), 0)
	c1 <- "event: heartbeat\ndata: {\"version\":9}\n\n"
	if ev := k.next(t, &n, "snapshot"); ev != "snapshot "+string(snap(9, "f")) {
		t.Fatalf("after the heartbeat gap: %s", ev)
	}

	// reconnect: a failure naming the reason, then a conditional fetch (304: confirm) and a
	// stream resumed from 9.
	c2 := s.conn()
	c1 <- "retry: 10\nevent: reconnect\ndata: {\"reason\":\"shutdown\",\"retryMs\":10}\n\n"
	if ev := k.next(t, &n, "failure"); !strings.Contains(ev, "asked to reconnect (shutdown)") {
		t.Fatalf("reconnect failure: %s", ev)
	}
	k.next(t, &n, "confirm 9")
	c2 <- patchEvent(9, 10, `"f":null`)
	if ev := k.next(t, &n, "snapshot", "confirm"); ev != "snapshot "+string(snap(10)) {
		t.Fatalf("after resuming: %s", ev)
	}
	// The daemon closes the stream: a failure, then a new connection. The snapshot served is
	// behind (9, as a daemon a moment behind would serve): it is not delivered, the stream resumes from 10.
	c3 := s.conn()
	c2 <- ""
	if ev := k.next(t, &n, "failure", "confirm"); !strings.Contains(ev, "stream closed") {
		t.Fatalf("closed stream: %s", ev)
	}
	k.next(t, &n, "confirm 10")
	// A key refused on the next connection: the failure names the 401.
	s.set(snap(10), http.StatusUnauthorized)
	s.conn() // not reached
	c3 <- ""
	if ev := k.next(t, &n, "failure", "confirm"); !strings.Contains(ev, "stream closed") {
		t.Fatalf("closed stream: %s", ev)
	}
	if ev := k.next(t, &n, "failure"); !strings.Contains(ev, "GET /sdk/v1/snapshot: HTTP 401 Unauthorized: unauthorized: unknown SDK key") {
		t.Fatalf("want a failure naming HTTP 401, got %s", ev)
	}

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}

	// Requests: every one authorized; the first fetch unconditional, the later ones conditional
	// on the version held; streams resumed from it.
	reqs := s.requests()
	want := []string{
		"/sdk/v1/snapshot auth=Bearer vx_server_k",
		"/sdk/v1/stream auth=Bearer vx_server_k last-event-id=1",
		`/sdk/v1/snapshot auth=Bearer vx_server_k if-none-match="3"`,
		`/sdk/v1/snapshot auth=Bearer vx_server_k if-none-match="7"`,
		`/sdk/v1/snapshot auth=Bearer vx_server_k if-none-match="9"`,
		"/sdk/v1/stream auth=Bearer vx_server_k last-event-id=9",
		`/sdk/v1/snapshot auth=Bearer vx_server_k if-none-match="10"`,
		"/sdk/v1/stream auth=Bearer vx_server_k last-event-id=10",
		`/sdk/v1/snapshot auth=Bearer vx_server_k if-none-match="10"`,
	}
	if len(reqs) < len(want) || !slices.Equal(reqs[:len(want)], want) {
		t.Errorf("requests:\n%s\nwant (at the start):\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
	s.srv.Close()
	waitGoroutines(t, before)
}

// waitGoroutines fails when more goroutines than before are left after 5 s.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDaemonSilenceIsADeadConnection(t *testing.T) {
	s := newScript(t)
	s.set(snap(1, "a"), 0)
	s.conn() // opens and says nothing
	c2 := s.conn()
	k := newDaemonSink()
	d := &Daemon{URL: s.srv.URL, Key: "vx_server_k", IdleTimeout: 100 * time.Millisecond, MinBackoff: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { d.Run(ctx, k); close(done) }()
	n := 0
	k.next(t, &n, "snapshot")
	if ev := k.next(t, &n, "failure", "confirm"); !strings.Contains(ev, "silent for 100ms") {
		t.Fatalf("idle failure: %s", ev)
	}
	// Comments keep a connection alive.
	k.next(t, &n, "confirm 1")
	for range 4 {
		c2 <- ": keep-alive\n"
		time.Sleep(50 * time.Millisecond)
	}
	for _, ev := range k.all()[n:] {
		if strings.HasPrefix(ev, "failure") {
			t.Fatalf("a connection with comments every 50ms was cut: %q", ev)
		}
	}
	cancel()
	<-done
}

func TestDaemonUnreadableSnapshot(t *testing.T) {
	s := newScript(t)
	s.set([]byte(`{"environment":"test","version":3,"flags":[{"key":"a"},{"enabled":true}]}`), 0)
	k := newDaemonSink()
	d := &Daemon{URL: s.srv.URL, Key: "vx_server_k", MinBackoff: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { d.Run(ctx, k); close(done) }()
	n := 0
	if ev := k.next(t, &n, "failure"); !strings.Contains(ev, "flags[1].key: missing") {
		t.Fatalf("failure %s", ev)
	}
	cancel()
	<-done
	for _, ev := range k.all() {
		if !strings.HasPrefix(ev, "failure") {
			t.Errorf("an unreadable snapshot was delivered: %s", ev)
		}
	}
}

func TestDocumentRendersTheDaemonsBytes(t *testing.T) {
	// A browser-safe snapshot as the daemon writes it (hashedKeys first), with flags out of
	// order in the input: the rendering sorts them and keeps every other field.
	in := `{"hashedKeys":{"salt":"s"},"schemaVersion":1,"environment":"e\u003c","version":4,"flags":[{"key":"b"},{"key":"a"}],"segments":[]}`
	doc, err := parseSnapshot([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hashedKeys":{"salt":"s"},"schemaVersion":1,"environment":"e\u003c","version":4,"flags":[{"key":"a"},{"key":"b"}],"segments":[]}`
	if got := string(doc.render()); got != want {
		t.Errorf("render:\n got %s\nwant %s", got, want)
	}
	for _, bad := range []struct{ in, want string }{
		{`[]`, "not a JSON object"},
		{`{"version":-1}`, "version"},
		{`{"version":"2"}`, "version"},
		{`{"version":1,"flags":{}}`, "flags: want an array"},
		{`{"version":1,"segments":[{"key":"x"},{"key":"x"}]}`, `segments[1].key: "x" appears twice`},
	} {
		if _, err := parseSnapshot([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.in, err, bad.want)
		}
	}
	var he *HTTPError
	if !errors.As(fmt.Errorf("x: %w", &HTTPError{Path: "/p", Status: 401}), &he) || he.Error() != "GET /p: HTTP 401 Unauthorized" {
		t.Errorf("HTTPError: %v", he)
	}
}

func TestBackoff(t *testing.T) {
	b := newBackoff(0, 0) // the defaults: 1 s doubling to 30 s
	steps := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, step := range steps {
		step *= time.Second
		if w := b.next(false); w < step/2 || w > step {
			t.Errorf("failure %d: wait %v, want within [%v, %v]", i+1, w, step/2, step)
		}
	}
	// A stream that was open starts the steps over.
	if w := b.next(true); w < 500*time.Millisecond || w > time.Second {
		t.Errorf("after an open stream: wait %v, want within [0.5s, 1s]", w)
	}
	if w := b.next(false); w > time.Second {
		t.Errorf("first failure after an open stream: wait %v, want at most 1s", w)
	}
	// Jitter: many clients do not all wait the same.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[newBackoff(time.Second, time.Second).next(false)] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 waits took only %d distinct values", len(seen))
	}
	if b := newBackoff(time.Second, time.Millisecond); b.max != time.Second {
		t.Errorf("max below min: %v, want it raised to min", b.max)
	}
}

func TestDaemonBadAnswers(t *testing.T) {
	var mu sync.Mutex
	answer := 503
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answer
		mu.Unlock()
		if r.URL.Path == "/sdk/v1/snapshot" && a == 503 {
			w.WriteHeader(503)
			fmt.Fprint(w, `{"code":"not_loaded","message":"environment not loaded yet"}`)
			return
		}
		if r.URL.Path == "/sdk/v1/snapshot" {
			_, _ = w.Write(snap(1, "a"))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>a proxy page</html>")
	}))
	defer srv.Close()
	k := newDaemonSink()
	d := &Daemon{URL: srv.URL, Key: "vx_server_k", MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { d.Run(ctx, k); close(done) }()
	n := 0
	if ev := k.next(t, &n, "failure"); !strings.Contains(ev, "GET /sdk/v1/snapshot: HTTP 503 Service Unavailable: not_loaded: environment not loaded yet") {
		t.Fatalf("503: %s", ev)
	}
	mu.Lock()
	answer = 200
	mu.Unlock()
	k.next(t, &n, "snapshot", "failure")
	if ev := k.next(t, &n, "failure"); !strings.Contains(ev, `GET /sdk/v1/stream: Content-Type "text/html", want text/event-stream`) {
		t.Fatalf("wrong content type: %s", ev)
	}
	cancel()
	<-done
}
