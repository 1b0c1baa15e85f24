// Package daemon wires the sync daemon together: the Redis store, the admin API under /api/v1,
// and the operations endpoints — /healthz (the process is up), /readyz (Redis answers) and
// /metrics (Prometheus text format) — with request metrics and a graceful shutdown.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vexil-flags/vexil/sync/admin"
	"github.com/vexil-flags/vexil/sync/auth"
	"github.com/vexil-flags/vexil/sync/follow"
	"github.com/vexil-flags/vexil/sync/sdkapi"
	"github.com/vexil-flags/vexil/sync/store"
	"github.com/vexil-flags/vexil/sync/stream"
)

// Config is the daemon's configuration (vexil serve fills it from flags and VEXIL_* variables).
type Config struct {
	RedisURL    string        // see store.Open
	Listen      string        // host:port
	AdminTokens string        // see auth.ParseTokens
	MaxBody     int64         // request body bound in bytes; admin.DefaultMaxBody when 0
	Drain       time.Duration // how long shutdown waits for requests in flight; 10s when 0
	// KeepChanges bounds each environment's change log to its newest entries; 0 keeps all
	// (store.Store.KeepChanges).
	KeepChanges int64
	Log         *slog.Logger
}

// Daemon is a configured daemon, ready to Serve.
type Daemon struct {
	cfg     Config
	store   *store.Store
	handler http.Handler
	// The host side (sync/PROTOCOL.md): the change-log follower feeds the SSE hub.
	follower *follow.Follower
	hub      *stream.Hub
}

// New checks the configuration and connects to Redis (lazily: readiness tells whether it
// answers).
func New(cfg Config) (*Daemon, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Drain == 0 {
		cfg.Drain = 10 * time.Second
	}
	tokens, err := auth.ParseTokens(cfg.AdminTokens)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	st, err := store.Open(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	st.KeepChanges(cfg.KeepChanges)
	d := &Daemon{cfg: cfg, store: st}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vexil_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "vexil_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
	redisUp := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vexil_redis_up", Help: "1 when Redis answered PING at the last scrape, else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if st.Ping(ctx) != nil {
			return 0
		}
		return 1
	})
	reg.MustRegister(requests, latency, redisUp)
	d.hub = stream.New(stream.Config{Registerer: reg})
	d.follower = follow.New(follow.Config{Store: st, Publish: d.hub.Publish, Log: cfg.Log, Registerer: reg})
	d.follower.Start()
	sdk := sdkapi.Handler(sdkapi.Config{Store: st, Follower: d.follower, Hub: d.hub, Log: cfg.Log})

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", admin.Handler(admin.Config{Store: st, Tokens: tokens, MaxBody: cfg.MaxBody, Log: cfg.Log, Registerer: reg}))
	mux.Handle("/sdk/v1/", sdk)
	mux.Handle("/ofrep/v1/", sdk)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "redis: %v\n", err)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	d.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		mux.ServeHTTP(rec, r)
		// Route patterns, not paths, label the metrics: flag keys would explode cardinality.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.code)).Inc()
		latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
	return d, nil
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and SetWriteDeadline (SSE streams).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Handler returns the daemon's HTTP handler (for tests with httptest).
func (d *Daemon) Handler() http.Handler { return d.handler }

// Store returns the daemon's store.
func (d *Daemon) Store() *store.Store { return d.store }

// Hub returns the daemon's SSE hub.
func (d *Daemon) Hub() *stream.Hub { return d.hub }

// Close ends the streams (with a reconnect hint), stops following Redis and closes it, for
// daemons used through Handler; Serve does this itself.
func (d *Daemon) Close() error {
	d.hub.Shutdown()
	err := d.store.Close() // first: it cuts the followers' blocking reads short
	d.follower.Close()
	return err
}

// Serve listens on cfg.Listen and serves until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish (up to Drain), and closes Redis.
// ready, when not nil, receives the bound address once listening.
func (d *Daemon) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	l, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	d.cfg.Log.Info("vexil serve: listening", "addr", l.Addr().String())
	if ready != nil {
		ready(l.Addr())
	}
	select {
	case err := <-errc:
		_ = d.Close()
		return err
	case <-ctx.Done():
	}
	d.cfg.Log.Info("vexil serve: shutting down", "drain", d.cfg.Drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.Drain)
	defer cancel()
	d.hub.Shutdown() // streams get a reconnect hint and end, so they do not hold up the drain
	err = srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	if e := d.Close(); err == nil {
		err = e
	}
	d.cfg.Log.Info("vexil serve: stopped")
	return err
}
