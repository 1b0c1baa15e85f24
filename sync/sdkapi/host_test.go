package sdkapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/daemon"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

const token = "test-admin-token-0123456789"

// env is a test environment on a real redis-server and a real daemon over HTTP.
type env struct {
	t     testing.TB
	redis *redistest.Server
	d     *daemon.Daemon
	srv   *httptest.Server
	admin *client.Client
	keys  store.SDKKeys
	ctx   context.Context
}

// newDaemon starts a daemon on redisURL, served by httptest.
func newDaemon(t testing.TB, redisURL string) (*daemon.Daemon, *httptest.Server) {
	t.Helper()
	d, err := daemon.New(daemon.Config{RedisURL: redisURL, Listen: "127.0.0.1:0", AdminTokens: "ci=" + token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(func() {
		_ = d.Close() // ends streams first, so srv.Close does not wait for them
		srv.Close()
	})
	return d, srv
}

// start runs redis-server, a daemon and an environment "test".
func start(t testing.TB) *env {
	t.Helper()
	r := redistest.Start(t)
	d, srv := newDaemon(t, r.URL())
	e := &env{t: t, redis: r, d: d, srv: srv, admin: client.New(srv.URL, token), ctx: context.Background()}
	_, keys, err := e.admin.CreateEnvironment(e.ctx, "test", "tests")
	if err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	return e
}

func intp(i int) *int { return &i }

func raws(vs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(v)
	}
	return out
}

// boolFlag is an enabled boolean flag serving false.
func boolFlag(key string) *flagdoc.Flag {
	return &flagdoc.Flag{Key: key, Enabled: true, Variations: raws("false", "true"),
		OffVariation: intp(0), Fallthrough: &flagdoc.Serve{Variation: intp(0)}}
}

// adminSnapshot is the environment's snapshot as the admin API reads it from Redis.
func (e *env) adminSnapshot() string {
	e.t.Helper()
	s, err := e.admin.Snapshot(e.ctx, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.TrimSpace(string(s))
}

// get sends a GET with headers and returns status, headers and body.
func get(t *testing.T, url string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

// sseEvent is one received Server-Sent Event.
type sseEvent struct {
	ID, Event, Data, Retry string
}

// host is a reference implementation of a host per sync/PROTOCOL.md: it applies snapshots and
// patches, records every version it reached, and counts what would be protocol violations.
type host struct {
	t   *testing.T
	key string

	mu       sync.Mutex
	env      string
	hashed   json.RawMessage
	version  uint64
	flags    map[string]json.RawMessage
	segments map[string]json.RawMessage
	applied  []uint64 // versions reached, in order
	first    uint64   // the version of the first snapshot
	events   []sseEvent
	raw      strings.Builder // every byte received
	gaps     int
	snaps    int
	patches  int
	ended    []string // how each connection ended: a reconnect reason, or "eof"/"error"
	changed  chan struct{}
}

func newHost(t *testing.T, key string) *host {
	return &host{t: t, key: key, changed: make(chan struct{}, 1)}
}

// connect opens a stream to base (resuming when resume is set) and returns once the response
// headers arrived; events are handled in a goroutine until the stream ends. The returned
// channel is closed when the connection ended.
func (h *host) connect(base string, resume bool, header map[string]string) (<-chan struct{}, error) {
	req, err := http.NewRequest("GET", base+"/sdk/v1/stream", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+h.key)
	h.mu.Lock()
	if resume && h.flags != nil {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(h.version, 10))
	}
	h.mu.Unlock()
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("stream: %s: %s", resp.Status, b)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		h.read(resp.Body)
	}()
	return done, nil
}

func (h *host) read(body io.Reader) {
	br := bufio.NewReaderSize(body, 1<<16)
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		h.mu.Lock()
		h.raw.WriteString(line)
		h.mu.Unlock()
		if err != nil {
			h.end("eof")
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.Event != "" || ev.Data != "" {
				if reason, bye := h.handle(ev); bye {
					h.end(reason)
					return
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		default:
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch name {
			case "id":
				ev.ID = value
			case "event":
				ev.Event = value
			case "data":
				ev.Data += value
			case "retry":
				ev.Retry = value
			}
		}
	}
}

func (h *host) end(reason string) {
	h.mu.Lock()
	h.ended = append(h.ended, reason)
	h.mu.Unlock()
	h.notify()
}

func (h *host) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// handle applies one event; bye is true for a reconnect event.
func (h *host) handle(ev sseEvent) (reason string, bye bool) {
	h.mu.Lock()
	defer h.notify()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
	switch ev.Event {
	case "snapshot":
		var s struct {
			Environment string            `json:"environment"`
			Version     uint64            `json:"version"`
			HashedKeys  json.RawMessage   `json:"hashedKeys"`
			Flags       []json.RawMessage `json:"flags"`
			Segments    []json.RawMessage `json:"segments"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &s); err != nil {
			h.t.Errorf("snapshot event: %v", err)
			return "", false
		}
		if id, _ := strconv.ParseUint(ev.ID, 10, 64); id != s.Version {
			h.t.Errorf("snapshot event id %q, version %d", ev.ID, s.Version)
		}
		if h.snaps == 0 {
			h.first = s.Version
		}
		h.env, h.hashed, h.version, h.snaps = s.Environment, s.HashedKeys, s.Version, h.snaps+1
		h.flags, h.segments = byKey(s.Flags), byKey(s.Segments)
		h.applied = append(h.applied, s.Version)
	case "patch":
		var p struct {
			Environment     string                     `json:"environment"`
			PreviousVersion uint64                     `json:"previousVersion"`
			Version         uint64                     `json:"version"`
			Flags           map[string]json.RawMessage `json:"flags"`
			Segments        map[string]json.RawMessage `json:"segments"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			h.t.Errorf("patch event: %v", err)
			return "", false
		}
		if id, _ := strconv.ParseUint(ev.ID, 10, 64); id != p.Version {
			h.t.Errorf("patch event id %q, version %d", ev.ID, p.Version)
		}
		h.patches++
		switch {
		case p.Version <= h.version:
			// already have it
		case h.flags == nil || p.PreviousVersion != h.version:
			h.gaps++
		default:
			apply(h.flags, p.Flags)
			apply(h.segments, p.Segments)
			h.version = p.Version
			h.applied = append(h.applied, p.Version)
		}
	case "reconnect":
		var r struct {
			Reason  string `json:"reason"`
			RetryMs int    `json:"retryMs"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &r); err != nil || r.RetryMs <= 0 || ev.Retry == "" {
			h.t.Errorf("reconnect event %+v: %v", ev, err)
		}
		return r.Reason, true
	case "heartbeat":
	default:
		h.t.Errorf("unknown event %q", ev.Event)
	}
	return "", false
}

func byKey(docs []json.RawMessage) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for _, d := range docs {
		var k struct {
			Key string `json:"key"`
		}
		_ = json.Unmarshal(d, &k)
		m[k.Key] = d
	}
	return m
}

func apply(m map[string]json.RawMessage, patch map[string]json.RawMessage) {
	for k, d := range patch {
		if string(d) == "null" {
			delete(m, k)
		} else {
			m[k] = d
		}
	}
}

// snapshot renders the host's state as the daemon assembles snapshots (keys sorted).
func (h *host) snapshot() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	docs := func(m map[string]json.RawMessage) []flagdoc.Doc {
		out := []flagdoc.Doc{}
		for k, d := range m {
			out = append(out, flagdoc.Doc{Key: k, JSON: d})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	return string(flagdoc.Assemble(h.env, h.version, docs(h.flags), docs(h.segments)))
}

func (h *host) current() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version
}

// waitVersion waits until the host holds version v (or more).
func (h *host) waitVersion(v uint64, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		if h.current() >= v {
			return true
		}
		select {
		case <-h.changed:
		case <-deadline:
			return false
		}
	}
}

// waitEnded waits for n ended connections and returns how they ended.
func (h *host) waitEnded(n int, timeout time.Duration) []string {
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		ended := append([]string(nil), h.ended...)
		h.mu.Unlock()
		if len(ended) >= n {
			return ended
		}
		select {
		case <-h.changed:
		case <-deadline:
			return ended
		}
	}
}

// checkOrder fails the test unless the versions applied strictly increase one by one from the
// first (every patch, in order, none twice, none missing).
func (h *host) checkOrder(name string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := 1; i < len(h.applied); i++ {
		if h.applied[i] != h.applied[i-1]+1 {
			h.t.Errorf("%s: versions applied %v: not consecutive at %d", name, h.applied, i)
			return
		}
	}
	if h.gaps != 0 {
		h.t.Errorf("%s: %d gaps", name, h.gaps)
	}
}

// clone returns a host holding h's state, not connected.
func (h *host) clone() *host {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := newHost(h.t, h.key)
	c.env, c.hashed, c.version = h.env, h.hashed, h.version
	c.flags, c.segments = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	apply(c.flags, h.flags)
	apply(c.segments, h.segments)
	return c
}
