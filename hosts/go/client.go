// Package vexil is the Go client of Vexil: it loads flag snapshots, keeps them current, and
// answers flag checks locally, in well under a microsecond, with the engine every Vexil host
// shares.
//
//	client, err := vexil.New(ctx, vexil.WithSnapshotFile("flags.json"))
//	...
//	flags := client.For(vexil.Context{TargetingKey: "user-42", Attributes: map[string]any{"plan": "pro"}})
//	if flags.Bool("new-checkout", false) { ... }
//
// Two engines give identical results: the wasm module embedded in this package, run in
// wazero (the default: the same bytes that run in browsers and Node), and the native Go core
// (WithEngine(EngineNative)). Checks never fail the caller: on any problem they return the
// caller's default, and the ...Detail variants say why.
//
// Concurrency: the client is safe for concurrent use and has no global lock on the check
// path. The wasm engine keeps a pool of instances (GOMAXPROCS by default), each holding the
// snapshot; a new snapshot is loaded into fresh instances off the hot path and swapped in
// atomically, and the old instances are closed once idle. Static and disabled flags are
// answered by the host without entering the engine. A Handle (Client.For) binds a context
// once and evaluates many flags with it: that is the fast path.
package vexil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/hosts/go/internal/catalog"
	"github.com/vexil-flags/vexil/hosts/go/internal/embedded"
	"github.com/vexil-flags/vexil/hosts/go/internal/offline"
	"github.com/vexil-flags/vexil/hosts/go/internal/pool"
	"github.com/vexil-flags/vexil/hosts/go/internal/snapdiff"
	"github.com/vexil-flags/vexil/hosts/go/internal/wasmengine"
)

// State is the client's health, in OpenFeature's terms.
type State string

const (
	// StateNotReady: New has not finished starting.
	StateNotReady State = "NOT_READY"
	// StateReady: the client serves the latest snapshot its source gave.
	StateReady State = "READY"
	// StateStale: the client serves a snapshot, but its source is failing, or the snapshot
	// came from the offline cache or the bootstrap.
	StateStale State = "STALE"
	// StateError: the client has no snapshot; checks return their defaults.
	StateError State = "ERROR"
)

// Status is the client's state with the reason for it.
type Status struct {
	State  State
	Reason string // "" when READY and all is well
	Err    error  // the failure behind STALE or ERROR, if any
	// Version is the snapshot version served, -1 when none.
	Version int64
	Since   time.Time
}

// Change is a new snapshot swapped in.
type Change struct {
	// Keys are the flags whose answers may differ: flags added, removed or changed, and flags
	// depending on a changed segment or prerequisite. Sorted.
	Keys                   []string
	OldVersion, NewVersion int64
}

// Client answers flag checks from the latest snapshot. Create it with New; Close it when
// done.
type Client struct {
	cfg *config
	gen atomic.Pointer[generation]

	rt   *wasmengine.Runtime
	mod  *wasmengine.Module
	open atomic.Int64 // wasm instances open

	updMu    sync.Mutex // serializes snapshot swaps and status changes
	status   atomic.Pointer[Status]
	first    chan struct{}
	firstOne sync.Once

	lmu       sync.Mutex
	nextL     int
	onChange  map[int]func(Change)
	onStatus  map[int]func(Status)
	retiring  sync.WaitGroup
	closed    atomic.Bool
	cancel    context.CancelFunc
	done      chan struct{}
	handles   sync.Pool
	sourceErr error // the source's last failure, under updMu
}

// generation is one loaded snapshot with everything that serves it.
type generation struct {
	data []byte
	cat  *catalog.Catalog
	diff *snapdiff.Index
	ev   *core.Evaluator // native engine
	pool *pool.Set       // wasm engine
}

// NotReadyError is returned by New with a usable client that has no snapshot yet: the source
// failed (or ctx ended first), and there is no offline cache or bootstrap to start from. The
// client keeps trying; checks return their defaults with PROVIDER_NOT_READY meanwhile.
type NotReadyError struct{ Err error }

func (e *NotReadyError) Error() string {
	return "vexil: started without a snapshot: " + e.Err.Error()
}

func (e *NotReadyError) Unwrap() error { return e.Err }

// New starts a client: it prepares the engine, starts the source, and waits until the
// source has delivered a first snapshot or failed (or ctx ends). On failure it serves the
// offline cache or the bootstrap, whichever is newer, and reports STALE.
//
// The error is a *ConfigError for unusable options, an engine error when the wasm module
// cannot be compiled, or a *NotReadyError — then the client is returned too, usable, and
// keeps trying.
func New(ctx context.Context, opts ...Option) (*Client, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		first:    make(chan struct{}),
		done:     make(chan struct{}),
		onChange: map[int]func(Change){},
		onStatus: map[int]func(Status){},
	}
	c.handles.New = func() any { return &Handle{c: c} }
	c.status.Store(&Status{State: StateNotReady, Reason: "starting", Version: -1, Since: time.Now()})
	if cfg.engine == EngineWasm {
		c.rt, err = wasmengine.NewRuntime(ctx, wasmengine.Config{CacheDir: cfg.wazeroCache})
		if err != nil {
			return nil, fmt.Errorf("vexil: %w", err)
		}
		c.mod, err = c.rt.Compile(ctx, embedded.Module)
		if err != nil {
			_ = c.rt.Close(ctx)
			return nil, fmt.Errorf("vexil: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	src := cfg.sources[0]
	go func() {
		defer close(c.done)
		src.Run(runCtx, sink{c})
	}()
	select {
	case <-c.first:
	case <-ctx.Done():
	}
	if c.gen.Load() != nil {
		return c, nil
	}
	cause := c.startFailure(ctx)
	if c.fallback(cause) {
		return c, nil
	}
	return c, &NotReadyError{Err: cause}
}

// startFailure says why New has no snapshot from the source.
func (c *Client) startFailure(ctx context.Context) error {
	c.updMu.Lock()
	defer c.updMu.Unlock()
	if c.sourceErr != nil {
		return c.sourceErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: no snapshot before the start deadline: %w", c.cfg.sources[0], err)
	}
	return fmt.Errorf("%s: no snapshot", c.cfg.sources[0])
}

// fallback loads the offline cache or the bootstrap, the newer of the two, when the client
// still has nothing.
func (c *Client) fallback(cause error) bool {
	type candidate struct {
		name string
		data []byte
	}
	var cands []candidate
	if c.cfg.cacheDir != "" {
		if data, err := offline.Read(c.cfg.cacheDir); err == nil {
			cands = append(cands, candidate{"the offline cache", data})
		}
	}
	if c.cfg.bootstrap != nil {
		cands = append(cands, candidate{"the bootstrap snapshot", c.cfg.bootstrap})
	}
	// Newest first; the cache wins a tie, being the later copy from the source.
	if len(cands) == 2 && snapshotVersion(cands[1].data) > snapshotVersion(cands[0].data) {
		cands[0], cands[1] = cands[1], cands[0]
	}
	for _, cand := range cands {
		if c.apply(cand.data, originFallback, fmt.Sprintf("serving %s: %v", cand.name, cause), cause) == nil {
			return true
		}
	}
	return false
}

type origin int

const (
	originSource origin = iota
	originFallback
)

// sink is the client as a source sees it.
type sink struct{ c *Client }

func (s sink) Snapshot(data []byte) error {
	defer s.c.firstOne.Do(func() { close(s.c.first) })
	err := s.c.apply(data, originSource, "", nil)
	if err != nil {
		s.c.updMu.Lock()
		s.c.sourceErr = err
		s.c.updMu.Unlock()
	}
	return err
}

func (s sink) Failure(err error) {
	defer s.c.firstOne.Do(func() { close(s.c.first) })
	c := s.c
	c.updMu.Lock()
	c.sourceErr = err
	g := c.gen.Load()
	var st Status
	if g != nil {
		st = Status{State: StateStale, Reason: "serving version " + itoa(g.cat.Version) + ": " + err.Error(), Err: err}
	} else {
		st = Status{State: StateError, Reason: err.Error(), Err: err}
	}
	c.setStatus(st)
	c.updMu.Unlock()
}

func (s sink) Confirm(version int64) {
	defer s.c.firstOne.Do(func() { close(s.c.first) })
	c := s.c
	c.updMu.Lock()
	defer c.updMu.Unlock()
	if g := c.gen.Load(); g != nil && g.cat.Version == version {
		c.sourceErr = nil
		c.setStatus(Status{State: StateReady})
	}
}

func (s sink) Current() ([]byte, int64) {
	if g := s.c.gen.Load(); g != nil {
		return g.data, g.cat.Version
	}
	return nil, -1
}

// apply loads data and swaps it in. Fallback snapshots leave the client STALE with reason.
func (c *Client) apply(data []byte, from origin, reason string, cause error) error {
	c.updMu.Lock()
	defer c.updMu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	cur := c.gen.Load()
	if from == originFallback && cur != nil {
		return nil // the source delivered meanwhile
	}
	if cur != nil && bytes.Equal(cur.data, data) {
		c.sourceErr = nil
		c.setStatus(Status{State: StateReady})
		return nil
	}
	g, err := c.load(data)
	if err != nil {
		err = fmt.Errorf("%s: snapshot unusable: %w", c.cfg.sources[0], err)
		if cur != nil {
			c.setStatus(Status{State: StateStale, Reason: "serving version " + itoa(cur.cat.Version) + ": " + err.Error(), Err: err})
		} else {
			c.setStatus(Status{State: StateError, Reason: err.Error(), Err: err})
		}
		return err
	}
	c.gen.Store(g)
	if cur != nil && cur.pool != nil {
		c.retiring.Add(1)
		go func() {
			defer c.retiring.Done()
			cur.pool.Retire()
		}()
	}
	st := Status{State: StateReady}
	if from == originFallback {
		st = Status{State: StateStale, Reason: reason, Err: cause}
	} else {
		c.sourceErr = nil
		if c.cfg.cacheDir != "" {
			if err := offline.Write(c.cfg.cacheDir, data); err != nil {
				st.Reason, st.Err = err.Error(), err
			}
		}
	}
	c.setStatus(st)
	if cur != nil {
		if keys := snapdiff.Changed(cur.diff, g.diff); len(keys) > 0 {
			ch := Change{Keys: keys, OldVersion: cur.cat.Version, NewVersion: g.cat.Version}
			for _, fn := range listeners(c, c.onChange) {
				fn(ch)
			}
		}
	}
	return nil
}

// load builds a generation for data with the configured engine.
func (c *Client) load(data []byte) (*generation, error) {
	data = clone(data)
	g := &generation{data: data, diff: snapdiff.New(data)}
	if c.cfg.engine == EngineNative {
		ev, err := core.Load(data)
		if err != nil {
			return nil, err
		}
		g.ev, g.cat = ev, catalog.FromNative(ev)
		return g, nil
	}
	set, err := pool.New(context.Background(), pool.Config{Module: c.mod, Size: c.cfg.poolSize, Open: &c.open}, data)
	if err != nil {
		var ge *wasmengine.GuestError
		if errors.As(err, &ge) {
			return nil, errors.New(ge.Text)
		}
		return nil, err
	}
	// The catalog comes from the first instance; its context is set again before any check.
	sl := set.Slot(0)
	g.cat, err = catalog.FromInstance(sl.In, data)
	if err != nil {
		set.Retire()
		return nil, err
	}
	g.pool = set
	return g, nil
}

// setStatus publishes st (filling Version and Since) and tells the status listeners when
// the state or reason changed. Callers hold updMu.
func (c *Client) setStatus(st Status) {
	st.Version = -1
	if g := c.gen.Load(); g != nil {
		st.Version = g.cat.Version
	}
	old := c.status.Load()
	if old.State == st.State && old.Reason == st.Reason && old.Version == st.Version {
		return
	}
	st.Since = time.Now()
	c.status.Store(&st)
	for _, fn := range listeners(c, c.onStatus) {
		fn(st)
	}
}

// listeners copies the callbacks of m, so they run without holding lmu.
func listeners[T any](c *Client, m map[int]T) []T {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Status returns the client's current status.
func (c *Client) Status() Status { return *c.status.Load() }

// Version is the version of the snapshot served, -1 when none.
func (c *Client) Version() int64 {
	if g := c.gen.Load(); g != nil {
		return g.cat.Version
	}
	return -1
}

// Problems lists the validation problems of the snapshot served ("path: message"): flags
// the engine rejected, which evaluate to the caller's default with PARSE_ERROR.
func (c *Client) Problems() []string {
	if g := c.gen.Load(); g != nil {
		return append([]string(nil), g.cat.Problems...)
	}
	return nil
}

// Keys returns the flag keys of the snapshot served, in snapshot order.
func (c *Client) Keys() []string {
	g := c.gen.Load()
	if g == nil {
		return nil
	}
	keys := make([]string, len(g.cat.Flags))
	for i := range g.cat.Flags {
		keys[i] = g.cat.Flags[i].Key
	}
	return keys
}

// OnChange registers fn to run after each new snapshot is swapped in whose flags differ from
// the previous one's. Callbacks run one at a time on the client's update goroutine: keep them
// short, and do not call Close from one. The returned function unregisters fn.
func (c *Client) OnChange(fn func(Change)) (remove func()) {
	return register(c, c.onChange, fn)
}

// OnStatus registers fn to run on every change of state or reason, with the same rules as
// OnChange.
func (c *Client) OnStatus(fn func(Status)) (remove func()) {
	return register(c, c.onStatus, fn)
}

func register[T any](c *Client, m map[int]T, fn T) func() {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	id := c.nextL
	c.nextL++
	m[id] = fn
	return func() {
		c.lmu.Lock()
		defer c.lmu.Unlock()
		delete(m, id)
	}
}

// Close stops the source, closes every engine instance, and releases the wasm runtime. Checks
// after Close return their defaults with ErrClosed. Closing twice is harmless.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.cancel()
	<-c.done
	c.updMu.Lock()
	g := c.gen.Swap(nil)
	c.updMu.Unlock()
	if g != nil && g.pool != nil {
		g.pool.Retire()
	}
	c.retiring.Wait()
	if c.rt != nil {
		return c.rt.Close(context.Background())
	}
	return nil
}

// openInstances is the number of wasm instances open, for leak checks.
func (c *Client) openInstances() int64 { return c.open.Load() }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
