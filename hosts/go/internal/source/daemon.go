package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of Daemon (sync/PROTOCOL.md, host checklist).
const (
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 30 * time.Second
	DefaultIdleTimeout  = 45 * time.Second // three missed heartbeats
	DefaultFetchTimeout = 30 * time.Second
	// MaxSnapshotBytes bounds a snapshot body or one stream line, so a broken or hostile
	// daemon cannot make the client allocate without limit.
	MaxSnapshotBytes = 64 << 20
)

// Daemon is a source that follows a Vexil sync daemon as sync/PROTOCOL.md describes: it
// fetches GET /sdk/v1/snapshot conditional on the version the client serves (a 304 is a
// Confirm), then follows GET /sdk/v1/stream from that version with Last-Event-ID. It applies
// patches to the document it holds (one copy: the flag and segment documents by key) and
// delivers each result whole, flags and segments sorted by key as the daemon writes them, so a
// patched snapshot has the same bytes as the daemon's snapshot of that version. A patch or
// heartbeat that skips versions (a gap) makes it fetch the snapshot again.
//
// Every failed fetch, refused key (401), lost connection, reconnect request and 45 s of
// silence is reported as a Failure; it then reconnects after a jittered exponential backoff
// (MinBackoff doubling to MaxBackoff; half of each delay is random), or after the retryMs a
// reconnect event asks for (capped at MaxBackoff) plus up to half of it again. The backoff
// starts over once a stream is open.
type Daemon struct {
	URL string // the daemon's base address, e.g. "http://vexil:8080"
	Key string // a server key (vx_server_…), sent as a bearer token

	MinBackoff   time.Duration // DefaultMinBackoff when 0
	MaxBackoff   time.Duration // DefaultMaxBackoff when 0
	IdleTimeout  time.Duration // DefaultIdleTimeout when 0
	FetchTimeout time.Duration // bounds one snapshot request; DefaultFetchTimeout when 0
	// Client sends the requests; nil: a client of Daemon's own, whose connections are closed
	// when Run returns. It must not have a Timeout (the stream is long-lived).
	Client *http.Client
}

func (d *Daemon) String() string { return "daemon " + strings.TrimRight(d.URL, "/") }

// HTTPError is an unexpected answer from the daemon.
type HTTPError struct {
	Path    string // "/sdk/v1/snapshot" or "/sdk/v1/stream"
	Status  int
	Code    string // the error body's code ("unauthorized"), if any
	Message string // the error body's message, or the start of the body
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("GET %s: HTTP %d %s", e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// errRetry ends a connection at the daemon's request after the given wait.
type errRetry struct {
	wait   time.Duration
	reason string
}

func (e *errRetry) Error() string { return "the daemon asked to reconnect (" + e.reason + ")" }

// Run follows the daemon until ctx is done.
func (d *Daemon) Run(ctx context.Context, sink Sink) {
	r := &daemonRun{d: d, sink: sink, hc: d.Client}
	if r.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		r.hc = &http.Client{Transport: tr}
		// Idle keep-alive connections hold goroutines of their own: let none outlive Run.
		defer tr.CloseIdleConnections()
	}
	b := newBackoff(d.MinBackoff, d.MaxBackoff)
	for {
		opened, err := r.connect(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := b.next(opened)
		var retry *errRetry
		if errors.As(err, &retry) {
			wait = retry.wait + rand.N(retry.wait/2+1)
		}
		sink.Failure(fmt.Errorf("%s: %w", d, err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// backoff is the jittered exponential wait between connections.
type backoff struct{ min, max, cur time.Duration }

func newBackoff(minB, maxB time.Duration) *backoff {
	minB = orDefault(minB, DefaultMinBackoff)
	maxB = max(orDefault(maxB, DefaultMaxBackoff), minB)
	return &backoff{min: minB, max: maxB, cur: minB}
}

// next is the wait after a connection ended: between half and all of the current step, which
// starts over when the stream had been open and doubles (up to max) after every failure.
func (b *backoff) next(opened bool) time.Duration {
	if opened {
		b.cur = b.min
	}
	wait := b.cur/2 + rand.N(b.cur/2+1)
	if !opened {
		b.cur = min(2*b.cur, b.max)
	}
	return wait
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// daemonRun is the state of one Run: the document held and the version it is at.
type daemonRun struct {
	d    *Daemon
	sink Sink
	hc   *http.Client
	doc  *document // nil until a snapshot is held
}

// connect fetches the snapshot and follows the stream until either fails. opened says whether
// the stream was open; the error says why it ended (never nil).
func (r *daemonRun) connect(ctx context.Context) (opened bool, err error) {
	if err := r.fetch(ctx); err != nil {
		return false, err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := r.request(cctx, "/sdk/v1/stream")
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Last-Event-ID", strconv.FormatInt(r.doc.version, 10))
	// Silence for IdleTimeout (no event, no comment) means a dead connection: the timer cuts
	// the request, which ends the read below.
	idle := orDefault(r.d.IdleTimeout, DefaultIdleTimeout)
	var timedOut atomic.Bool
	timer := time.AfterFunc(idle, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	resp, err := r.hc.Do(req)
	if err != nil {
		return false, r.cut(err, timedOut.Load(), idle)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, httpError(resp, "/sdk/v1/stream")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, fmt.Errorf("GET /sdk/v1/stream: Content-Type %q, want text/event-stream", ct)
	}
	// The stream resumes at the version held: the client is current unless events say otherwise.
	r.sink.Confirm(r.doc.version)
	err = readEvents(resp.Body, func() { timer.Reset(idle) }, func(ev sseEvent) error {
		return r.handle(ctx, ev)
	})
	if err == nil {
		err = errors.New("stream closed by the daemon")
	}
	return true, r.cut(err, timedOut.Load(), idle)
}

// cut names the idle timeout as the cause when it ended the request.
func (r *daemonRun) cut(err error, timedOut bool, idle time.Duration) error {
	if timedOut {
		return fmt.Errorf("stream silent for %v: connection considered dead", idle)
	}
	return err
}

func (r *daemonRun) request(ctx context.Context, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.d.URL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.d.Key)
	return req, nil
}

// fetch gets the snapshot conditional on the version the client serves. A 304 confirms it (and
// takes the client's document as the one to patch when the source holds no other); a 200 is
// delivered as it came. The transport asks for gzip and decompresses on its own.
func (r *daemonRun) fetch(ctx context.Context) error {
	data, version := r.sink.Current()
	fctx, cancel := context.WithTimeout(ctx, orDefault(r.d.FetchTimeout, DefaultFetchTimeout))
	defer cancel()
	req, err := r.request(fctx, "/sdk/v1/snapshot")
	if err != nil {
		return err
	}
	if version >= 0 {
		req.Header.Set("If-None-Match", `"`+strconv.FormatInt(version, 10)+`"`)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if r.doc == nil || r.doc.version != version {
			doc, err := parseSnapshot(data)
			if err != nil {
				return fmt.Errorf("the snapshot served: %w", err)
			}
			r.doc = doc
		}
		r.sink.Confirm(version)
		return nil
	case http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSnapshotBytes+1))
		if err != nil {
			return fmt.Errorf("GET /sdk/v1/snapshot: %w", err)
		}
		if len(body) > MaxSnapshotBytes {
			return fmt.Errorf("GET /sdk/v1/snapshot: snapshot larger than %d bytes", MaxSnapshotBytes)
		}
		if r.doc != nil {
			var v struct{ Version int64 }
			if json.Unmarshal(body, &v) == nil && v.Version < r.doc.version {
				// A daemon behind the one the source came from: keep the newer document; the
				// stream resumed from it says nothing until this daemon has caught up.
				return nil
			}
		}
		return r.replace(body, "GET /sdk/v1/snapshot")
	default:
		return httpError(resp, "/sdk/v1/snapshot")
	}
}

// replace takes a whole snapshot as the document held and delivers it. A snapshot the source
// cannot read is an error (nothing changes); one the client refuses is still held, since it is
// the daemon's state that later patches build on.
func (r *daemonRun) replace(data []byte, from string) error {
	doc, err := parseSnapshot(data)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	r.doc = doc
	_ = r.sink.Snapshot(data) // the client reports a snapshot it cannot use
	return nil
}

func httpError(resp *http.Response, path string) error {
	e := &HTTPError{Path: path, Status: resp.StatusCode}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var msg struct{ Code, Message string }
	if json.Unmarshal(body, &msg) == nil && (msg.Code != "" || msg.Message != "") {
		e.Code, e.Message = msg.Code, msg.Message
	} else {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
	}
	return e
}

// handle applies one event. An error ends the connection.
func (r *daemonRun) handle(ctx context.Context, ev sseEvent) error {
	switch ev.event {
	case "snapshot":
		return r.replace(ev.data, "snapshot event")
	case "patch":
		var p patch
		if err := json.Unmarshal(ev.data, &p); err != nil {
			return fmt.Errorf("patch event: %w", err)
		}
		if p.Version == nil || p.PreviousVersion == nil {
			return errors.New("patch event: missing version or previousVersion")
		}
		switch {
		case *p.Version <= r.doc.version:
			return nil // already held (a daemon a moment behind)
		case *p.PreviousVersion != r.doc.version:
			return r.gap(ctx, *p.Version)
		}
		r.doc.apply(&p)
		_ = r.sink.Snapshot(r.doc.render())
		return nil
	case "heartbeat":
		var hb struct{ Version *int64 }
		if err := json.Unmarshal(ev.data, &hb); err != nil || hb.Version == nil {
			return fmt.Errorf("heartbeat event: no version in %q", ev.data)
		}
		if *hb.Version > r.doc.version {
			return r.gap(ctx, *hb.Version)
		}
		return nil
	case "reconnect":
		var rc struct {
			Reason  string
			RetryMs int64
		}
		_ = json.Unmarshal(ev.data, &rc) // a malformed hint is still a reconnect
		wait := time.Duration(rc.RetryMs) * time.Millisecond
		if b := newBackoff(r.d.MinBackoff, r.d.MaxBackoff); wait <= 0 {
			wait = b.min
		} else if wait > b.max {
			wait = b.max // a hint beyond the longest backoff is capped by it
		}
		if rc.Reason == "" {
			rc.Reason = "no reason given"
		}
		return &errRetry{wait: wait, reason: rc.Reason}
	}
	return nil // unknown events are for newer hosts
}

// gap refetches the snapshot when the stream shows a version the source skipped. The stream
// goes on; if the snapshot is still behind want (the snapshot came from a daemon behind the
// stream's), the connection ends and is made again after the backoff.
func (r *daemonRun) gap(ctx context.Context, want int64) error {
	if err := r.fetch(ctx); err != nil {
		return fmt.Errorf("refetching after a version gap: %w", err)
	}
	if r.doc.version < want {
		return fmt.Errorf("version gap: the stream is at %d, the snapshot at %d", want, r.doc.version)
	}
	return nil
}

// document is the snapshot held: its top-level fields and its flag and segment documents by
// key, as the daemon sent them.
type document struct {
	version  int64
	head     map[string]json.RawMessage // every top-level field but version, flags, segments
	flags    map[string]json.RawMessage
	segments map[string]json.RawMessage
}

type patch struct {
	PreviousVersion, Version *int64
	Flags, Segments          map[string]json.RawMessage
}

// parseSnapshot reads a snapshot's structure; the engine checks the rest when the client loads it.
func parseSnapshot(data []byte) (*document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, fmt.Errorf("snapshot is not a JSON object: %v", err)
	}
	doc := &document{head: top}
	if err := json.Unmarshal(top["version"], &doc.version); err != nil || doc.version < 0 {
		return nil, fmt.Errorf("snapshot: version: want an integer ≥ 0, got %s", orNothing(top["version"]))
	}
	var err error
	if doc.flags, err = byKey(top["flags"], "flags"); err != nil {
		return nil, err
	}
	if doc.segments, err = byKey(top["segments"], "segments"); err != nil {
		return nil, err
	}
	delete(top, "version")
	delete(top, "flags")
	delete(top, "segments")
	return doc, nil
}

func orNothing(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	return string(b)
}

func byKey(raw json.RawMessage, field string) (map[string]json.RawMessage, error) {
	var list []json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("snapshot: %s: want an array", field)
		}
	}
	m := make(map[string]json.RawMessage, len(list))
	for i, d := range list {
		var k struct{ Key *string }
		if err := json.Unmarshal(d, &k); err != nil || k.Key == nil {
			return nil, fmt.Errorf("snapshot: %s[%d].key: missing", field, i)
		}
		if _, dup := m[*k.Key]; dup {
			return nil, fmt.Errorf("snapshot: %s[%d].key: %q appears twice", field, i, *k.Key)
		}
		m[*k.Key] = d
	}
	return m, nil
}

func (doc *document) apply(p *patch) {
	patchDocs(doc.flags, p.Flags)
	patchDocs(doc.segments, p.Segments)
	doc.version = *p.Version
}

func patchDocs(m, p map[string]json.RawMessage) {
	for k, d := range p {
		if len(d) == 0 || string(d) == "null" {
			delete(m, k)
		} else {
			m[k] = d
		}
	}
}

// render writes the snapshot as sync/flagdoc.Assemble does: schemaVersion, environment,
// version, flags, segments, documents sorted by key; other top-level fields (hashedKeys) come
// first, sorted, as the daemon puts hashedKeys first.
func (doc *document) render() []byte {
	n := 64
	for _, d := range doc.flags {
		n += len(d) + 1
	}
	for _, d := range doc.segments {
		n += len(d) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	field := func(name string, v []byte) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, ':')
		b = append(b, v...)
	}
	var extra []string
	for k := range doc.head {
		if k != "schemaVersion" && k != "environment" {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		field(k, doc.head[k])
	}
	for _, k := range []string{"schemaVersion", "environment"} {
		if v, ok := doc.head[k]; ok {
			field(k, v)
		}
	}
	field("version", strconv.AppendInt(nil, doc.version, 10))
	field("flags", docs(doc.flags))
	field("segments", docs(doc.segments))
	return append(b, '}')
}

func docs(m map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteByte('[')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m[k])
	}
	b.WriteByte(']')
	return b.Bytes()
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, event string
	data      []byte
}

// readEvents parses Server-Sent Events from body, calling alive for every line (comments
// included) and on for every event, until body ends (nil) or fails or on returns an error.
func readEvents(body io.Reader, alive func(), on func(sseEvent) error) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var (
		ev      sseEvent
		hasData bool
		long    []byte
	)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				if len(long) > MaxSnapshotBytes {
					return fmt.Errorf("stream: a line longer than %d bytes", MaxSnapshotBytes)
				}
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		alive()
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 { // a blank line ends the event
			if hasData {
				if err := on(ev); err != nil {
					return err
				}
			}
			ev, hasData = sseEvent{}, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "event":
			ev.event = string(value)
		case "id":
			ev.id = string(value)
		case "data":
			if hasData {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
			hasData = true
		}
	}
}
