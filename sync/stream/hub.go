// Package stream fans environment changes out to hosts over Server-Sent Events (the protocol of
// sync/PROTOCOL.md). A Hub receives every new follow.View, encodes the patch once per
// environment and kind of key (server, client), and queues the same bytes to every subscriber.
// A subscriber is a bounded queue served by its HTTP handler's goroutine; one that falls a
// queue behind is dropped with a reconnect hint, so a slow host never delays the others. The
// last History patches are kept per environment for Last-Event-ID resumption.
package stream

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vexil-flags/vexil/sync/follow"
)

// Config configures a Hub.
type Config struct {
	// Heartbeat is the interval of heartbeat events; 15s when 0.
	Heartbeat time.Duration
	// Queue is how many events a subscriber may have unsent before it is dropped; 256 when 0.
	Queue int
	// History is how many patches are kept per environment for resumption; 1024 when 0.
	History int
	// RetryMs is the reconnect delay suggested to dropped and shut-down streams; 1000 when 0.
	RetryMs int
	// WriteTimeout bounds one write to a subscriber; 10s when 0.
	WriteTimeout time.Duration
	// Registerer receives the hub's metrics; none when nil.
	Registerer prometheus.Registerer
}

// Reasons a stream is ended by the daemon (the reconnect event's reason).
const (
	ReasonShutdown = "shutdown"
	ReasonSlow     = "slow"
	ReasonDeleted  = "environment-deleted"
)

// Hub is the fan-out of every environment. It is safe for concurrent use.
type Hub struct {
	cfg Config

	mu     sync.Mutex
	envs   map[string]*envHub
	closed bool

	connected   *prometheus.GaugeVec
	patchesSent prometheus.Counter
	dropped     *prometheus.CounterVec
	propagation prometheus.Histogram
}

// Kind selects the view a stream carries.
type Kind uint8

const (
	Server Kind = iota // the full snapshot
	Client             // the browser-safe snapshot (follow.View.ClientView)
)

func (k Kind) String() string {
	if k == Client {
		return "client"
	}
	return "server"
}

type envHub struct {
	cur   *follow.View // the server view; nil before the first
	kinds [2]channel
}

// channel is one environment's stream of one kind.
type channel struct {
	subs    map[*Subscriber]struct{}
	history []*event // consecutive patches, oldest first; each one's prev is the previous' version
	snap    *event   // the snapshot event of the current version, made on first need
	last    *follow.View
}

// Subscriber is one stream's queue. Its handler reads Events until Done is closed.
type Subscriber struct {
	env    string
	kind   Kind
	events chan *event
	done   chan struct{}
	reason string // set before done is closed
}

// New returns a hub.
func New(cfg Config) *Hub {
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Queue == 0 {
		cfg.Queue = 256
	}
	if cfg.History == 0 {
		cfg.History = 1024
	}
	if cfg.RetryMs == 0 {
		cfg.RetryMs = 1000
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	h := &Hub{cfg: cfg, envs: map[string]*envHub{},
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vexil_stream_connections", Help: "Connected SSE streams by environment and key kind.",
		}, []string{"env", "kind"}),
		patchesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vexil_stream_patches_sent_total", Help: "Patch events written to SSE streams (one per stream and patch).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vexil_stream_dropped_total", Help: "SSE streams ended by the daemon, by reason (slow, shutdown, environment-deleted).",
		}, []string{"reason"}),
		propagation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vexil_stream_propagation_seconds",
			Help:    "Time from a change's write to Redis to its patch being written to a stream.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(h.connected, h.patchesSent, h.dropped, h.propagation)
	}
	return h
}

// Publish takes an environment's new view (nil: the environment was deleted) and queues its
// patch to every subscriber. Views of one environment must come in version order (the
// follower's Publish hook calls it so).
func (h *Hub) Publish(env string, v *follow.View) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.envs[env]
	if e == nil {
		e = &envHub{}
		h.envs[env] = e
	}
	if v == nil {
		for k := range e.kinds {
			for s := range e.kinds[k].subs {
				h.drop(&e.kinds[k], s, ReasonDeleted)
			}
		}
		delete(h.envs, env)
		return
	}
	old := e.cur
	e.cur = v
	for k := range e.kinds {
		c := &e.kinds[k]
		c.snap = nil
		if old == nil || (Kind(k) == Client && len(c.subs) == 0) {
			// Nothing to patch from; and browser-safe views are made only while someone
			// listens: without subscribers the client history restarts (resumption then
			// sends a snapshot).
			c.history, c.last = nil, nil
			continue
		}
		prev, next := c.last, view(v, Kind(k))
		if prev == nil {
			prev = view(old, Kind(k))
		}
		ev := patchEvent(prev, next)
		c.last = next
		if len(c.history) == h.cfg.History {
			copy(c.history, c.history[1:])
			c.history = c.history[:len(c.history)-1]
		}
		c.history = append(c.history, ev)
		for s := range c.subs {
			select {
			case s.events <- ev:
			default:
				h.drop(c, s, ReasonSlow)
			}
		}
	}
}

func view(v *follow.View, k Kind) *follow.View {
	if k == Client {
		return v.ClientView()
	}
	return v
}

// drop ends a subscription from the hub's side; h.mu is held.
func (h *Hub) drop(c *channel, s *Subscriber, reason string) {
	delete(c.subs, s)
	s.reason = reason
	close(s.done)
	h.dropped.WithLabelValues(reason).Inc()
	h.connected.WithLabelValues(s.env, s.kind.String()).Dec()
}

// Subscribe registers a stream of env and returns what it must send first: a snapshot, the
// patches after lastEventID (a version; resume is false when there is none), or nothing when
// lastEventID is current. ok is false when the hub has no view of env yet or is shut down.
func (h *Hub) Subscribe(env string, kind Kind, lastEventID uint64, resume bool) (s *Subscriber, first []*event, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.envs[env]
	if h.closed || e == nil || e.cur == nil {
		return nil, nil, false
	}
	c := &e.kinds[kind]
	cur := view(e.cur, kind)
	if kind == Client && c.last == nil {
		c.last = cur // from now on the client view is patched incrementally
	}
	switch {
	case resume && lastEventID >= cur.Version:
		// Current, or ahead of this daemon: the coming patches bring it along.
	case resume && resumable(c.history, lastEventID) >= 0:
		first = append(first, c.history[resumable(c.history, lastEventID):]...)
	default:
		if c.snap == nil || c.snap.version != cur.Version {
			c.snap = snapshotEvent(cur)
		}
		first = []*event{c.snap}
	}
	s = &Subscriber{env: env, kind: kind, events: make(chan *event, h.cfg.Queue), done: make(chan struct{})}
	if c.subs == nil {
		c.subs = map[*Subscriber]struct{}{}
	}
	c.subs[s] = struct{}{}
	h.connected.WithLabelValues(env, kind.String()).Inc()
	return s, first, true
}

// Unsubscribe removes a stream that ended on its own (the host went away).
func (h *Hub) Unsubscribe(s *Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-s.done:
		return // dropped already
	default:
	}
	if e := h.envs[s.env]; e != nil {
		if _, ok := e.kinds[s.kind].subs[s]; ok {
			delete(e.kinds[s.kind].subs, s)
			h.connected.WithLabelValues(s.env, s.kind.String()).Dec()
		}
	}
}

// Shutdown ends every stream with a reconnect hint (reason shutdown) and refuses new ones.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, e := range h.envs {
		for k := range e.kinds {
			for s := range e.kinds[k].subs {
				h.drop(&e.kinds[k], s, ReasonShutdown)
			}
		}
	}
}

// Subscribers counts an environment's streams of a kind (for tests and the benchmark).
func (h *Hub) Subscribers(env string, kind Kind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.envs[env]; e != nil {
		return len(e.kinds[kind].subs)
	}
	return 0
}

// resumable returns the index of the patch that continues from version, or -1.
func resumable(history []*event, version uint64) int {
	for i, ev := range history {
		if ev.prev == version {
			return i
		}
	}
	return -1
}
