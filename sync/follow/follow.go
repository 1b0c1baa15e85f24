// Package follow keeps every environment's current state in memory by following the change
// logs in Redis. Each environment has one goroutine that reads its change-log stream with a
// blocking XREAD from the last entry id it applied, and applies each entry to the previous
// View (copying only the collection an entry touches). Entries carry the version they produced,
// so a follower notices any gap — entries trimmed from the stream, an environment deleted and
// re-created, a Redis that lost data — and then reads the environment whole instead.
//
// Redis outages are waited out: the last View keeps being served, reads are retried with
// backoff, and reading resumes after the last applied id, so no change is missed. Several
// daemons following one Redis converge on the same Views.
//
// Limits: each followed environment holds one pooled Redis connection in its blocking read, so
// the Redis pool must be larger than the number of environments (go-redis' default pool is ten
// per CPU). New environments are discovered every Discover interval, or at once when a
// request asks for one (View).
package follow

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/vexil-flags/vexil/sync/store"
)

// Config configures a Follower.
type Config struct {
	Store *store.Store
	// Publish receives every new View of an environment, in version order, from that
	// environment's goroutine (so it must not block for long); nil when the environment was
	// deleted. It runs before the View becomes visible through Current and View.
	Publish func(env string, v *View)
	Log     *slog.Logger
	// Discover is how often the environment list is re-read; 2s when 0.
	Discover time.Duration
	// Block bounds one blocking read, which is also how long closing may take; 2s when 0.
	Block time.Duration
	// Registerer receives the follower's metrics; none when nil.
	Registerer prometheus.Registerer
}

// Follower follows every environment's change log.
type Follower struct {
	cfg    Config
	rdb    redis.UniversalClient
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	envs map[string]*env

	rebuilds, applied, redisErrors prometheus.Counter
}

type env struct {
	key    string
	cancel context.CancelFunc
	ready  chan struct{} // closed once the first View is loaded
	mu     sync.RWMutex
	cur    *View
}

// New returns a follower; Start starts it.
func New(cfg Config) *Follower {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Discover == 0 {
		cfg.Discover = 2 * time.Second
	}
	if cfg.Block == 0 {
		cfg.Block = 2 * time.Second
	}
	if cfg.Publish == nil {
		cfg.Publish = func(string, *View) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Follower{cfg: cfg, rdb: cfg.Store.Client(), ctx: ctx, cancel: cancel, envs: map[string]*env{},
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vexil_follow_rebuilds_total", Help: "Environments read whole from Redis (first load, or a gap in the change log).",
		}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vexil_follow_entries_applied_total", Help: "Change-log entries applied incrementally.",
		}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vexil_follow_redis_errors_total", Help: "Failed Redis reads while following change logs (retried).",
		}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(f.rebuilds, f.applied, f.redisErrors)
	}
	return f
}

// Start begins following every environment (and discovering new ones) until Close.
func (f *Follower) Start() {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		t := time.NewTicker(f.cfg.Discover)
		defer t.Stop()
		for {
			f.discover()
			select {
			case <-f.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops following; it waits for the readers to return (at most about Block).
func (f *Follower) Close() {
	f.cancel()
	f.wg.Wait()
}

func (f *Follower) discover() {
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	keys, err := f.cfg.Store.EnvironmentKeys(ctx)
	if errors.Is(err, redis.ErrClosed) {
		f.cancel() // the store was closed under us: nothing left to follow
		return
	}
	if err != nil {
		if f.ctx.Err() == nil {
			f.redisErrors.Inc()
		}
		return
	}
	for _, k := range keys {
		f.follow(k)
	}
}

// follow starts following env unless it is followed already.
func (f *Follower) follow(key string) *env {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.envs[key]; e != nil {
		return e
	}
	ctx, cancel := context.WithCancel(f.ctx)
	e := &env{key: key, cancel: cancel, ready: make(chan struct{})}
	f.envs[key] = e
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.run(ctx, e)
	}()
	return e
}

// Current returns the environment's current View, or nil when it is not loaded (yet).
func (f *Follower) Current(key string) *View {
	f.mu.Lock()
	e := f.envs[key]
	f.mu.Unlock()
	if e == nil {
		return nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cur
}

// View returns the environment's current View, starting to follow it if needed and waiting
// (until ctx is done) for its first load. ErrNotLoaded when that does not happen in time.
func (f *Follower) View(ctx context.Context, key string) (*View, error) {
	if f.ctx.Err() != nil {
		return nil, ErrClosed
	}
	e := f.follow(key)
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ErrNotLoaded
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.cur == nil {
		return nil, store.ErrNotFound
	}
	return e.cur, nil
}

// Errors of View.
var (
	ErrNotLoaded = errors.New("environment not loaded from Redis yet")
	ErrClosed    = errors.New("follower closed")
)

func (f *Follower) set(e *env, v *View) {
	f.cfg.Publish(e.key, v)
	e.mu.Lock()
	e.cur = v
	e.mu.Unlock()
}

// run follows one environment until ctx is done or the environment is gone.
func (f *Follower) run(ctx context.Context, e *env) {
	defer func() {
		select {
		case <-e.ready:
		default:
			close(e.ready)
		}
	}()
	var cur *View
	lastID := ""
	backoff := 50 * time.Millisecond
	fail := func(err error) {
		if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
			return
		}
		f.redisErrors.Inc()
		f.cfg.Log.Warn("follow: redis", "env", e.key, "err", err, "retry", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
	logKey := store.ChangeLogKey(e.key)
	closed := func(err error) bool { return errors.Is(err, redis.ErrClosed) }
	for ctx.Err() == nil {
		if lastID == "" {
			v, id, err := f.rebuild(ctx, e.key)
			if errors.Is(err, store.ErrNotFound) {
				f.gone(e, cur != nil)
				return
			}
			if closed(err) {
				return
			}
			if err != nil {
				fail(err)
				continue
			}
			f.rebuilds.Inc()
			if cur == nil || v.Version != cur.Version {
				f.set(e, v)
			}
			cur, lastID = v, id
			select {
			case <-e.ready:
			default:
				close(e.ready)
			}
		}
		res, err := f.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{logKey, lastID}, Count: 256, Block: f.cfg.Block}).Result()
		if errors.Is(err, redis.Nil) {
			backoff = 50 * time.Millisecond
			if gone, gerr := f.deleted(ctx, e.key); gerr == nil && gone {
				f.gone(e, true)
				return
			}
			continue
		}
		if closed(err) {
			return
		}
		if err != nil {
			fail(err)
			continue
		}
		backoff = 50 * time.Millisecond
		for _, s := range res {
			for _, m := range s.Messages {
				entry, err := store.ParseEntry(m)
				if err != nil {
					f.cfg.Log.Error("follow: bad change-log entry, reading the environment whole", "env", e.key, "err", err)
					lastID = ""
					break
				}
				if entry.Version <= cur.Version {
					lastID = m.ID // already in the view (written before the rebuild read it)
					continue
				}
				if entry.Version != cur.Version+1 {
					f.cfg.Log.Info("follow: gap in the change log, reading the environment whole",
						"env", e.key, "have", cur.Version, "next", entry.Version)
					lastID = ""
					break
				}
				at, _ := time.Parse(time.RFC3339Nano, entry.Time)
				cur = cur.apply(&entry, at)
				lastID = m.ID
				f.applied.Inc()
				f.set(e, cur)
			}
		}
	}
}

// rebuild reads an environment whole. The log id is read before the state, so every entry
// after it either is in the state (its version is not above the state's, and is skipped) or
// follows it.
func (f *Follower) rebuild(ctx context.Context, key string) (*View, string, error) {
	last, err := f.rdb.XRevRangeN(ctx, store.ChangeLogKey(key), "+", "-", 1).Result()
	if err != nil {
		return nil, "", err
	}
	id := "0-0"
	if len(last) > 0 {
		id = last[0].ID
	}
	st, err := f.cfg.Store.Read(ctx, key)
	if err != nil {
		return nil, "", err
	}
	salt, err := f.cfg.Store.ClientSalt(ctx, key)
	if err != nil {
		return nil, "", err
	}
	return fromState(st, salt), id, nil
}

// deleted reports whether the environment no longer exists (checked when the log is idle).
func (f *Follower) deleted(ctx context.Context, key string) (bool, error) {
	keys, err := f.cfg.Store.EnvironmentKeys(ctx)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k == key {
			return false, nil
		}
	}
	// The list is written after the environment on creation: check the environment itself.
	_, err = f.cfg.Store.Environment(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return false, err
}

// gone forgets a deleted environment, telling Publish when it had been published.
func (f *Follower) gone(e *env, published bool) {
	f.mu.Lock()
	if f.envs[e.key] == e {
		delete(f.envs, e.key)
	}
	f.mu.Unlock()
	if published {
		f.set(e, nil)
	}
}
