package vexil

import (
	"errors"
	"runtime"
	"time"

	"github.com/vexil-flags/vexil/hosts/go/internal/source"
)

// Engine selects how flags are evaluated.
type Engine int

const (
	// EngineWasm runs the engine compiled to WebAssembly (the module embedded in this
	// package) in wazero: the same bytes that run in browsers and Node. The default.
	EngineWasm Engine = iota
	// EngineNative runs the Go core directly: the same semantics, about five times faster,
	// no wasm runtime.
	EngineNative
)

func (e Engine) String() string {
	switch e {
	case EngineWasm:
		return "wasm"
	case EngineNative:
		return "native"
	}
	return "unknown"
}

// Option configures a Client.
type Option func(*config)

type config struct {
	engine       Engine
	sources      []source.Source
	pollInterval time.Duration
	bootstrap    []byte
	cacheDir     string
	poolSize     int
	wazeroCache  string
	// daemonBackoff is WithDaemonBackoff's min and max, applied to the daemon source in
	// newConfig so that the options may come in any order.
	daemonBackoff [2]time.Duration
	errs          []error
}

func newConfig(opts []Option) (*config, error) {
	cfg := &config{poolSize: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(cfg)
	}
	for _, s := range cfg.sources {
		if f, ok := s.(*source.File); ok && cfg.pollInterval > 0 {
			f.Interval = cfg.pollInterval
		}
		if d, ok := s.(*source.Daemon); ok && cfg.daemonBackoff[0] > 0 {
			d.MinBackoff, d.MaxBackoff = cfg.daemonBackoff[0], cfg.daemonBackoff[1]
		}
	}
	switch len(cfg.sources) {
	case 0:
		cfg.errs = append(cfg.errs, errors.New("no source: give WithDaemon, WithSnapshotFile or WithSnapshot"))
	case 1:
	default:
		cfg.errs = append(cfg.errs, errors.New("more than one source: give one of WithDaemon, WithSnapshotFile, WithSnapshot"))
	}
	if len(cfg.errs) > 0 {
		return nil, &ConfigError{Errs: cfg.errs}
	}
	return cfg, nil
}

// ConfigError lists what is wrong with the options given to New.
type ConfigError struct{ Errs []error }

func (e *ConfigError) Error() string {
	s := "vexil: configuration"
	for i, err := range e.Errs {
		if i == 0 {
			s += ": "
		} else {
			s += "; "
		}
		s += err.Error()
	}
	return s
}

// Unwrap returns the individual problems.
func (e *ConfigError) Unwrap() []error { return e.Errs }

// WithEngine selects the engine; EngineWasm by default.
func WithEngine(e Engine) Option {
	return func(c *config) {
		if e != EngineWasm && e != EngineNative {
			c.errs = append(c.errs, errors.New("WithEngine: unknown engine"))
		}
		c.engine = e
	}
}

// WithSnapshotFile reads the snapshot from a file and watches it: the file's modification
// time and size are polled (every second unless WithPollInterval says otherwise) and a
// changed file is loaded and swapped in, so flag checks update live. An unreadable file makes
// the client STALE (it keeps serving what it has); a file the engine cannot load as a whole
// is reported the same way and the previous snapshot stays.
func WithSnapshotFile(path string) Option {
	return func(c *config) {
		if path == "" {
			c.errs = append(c.errs, errors.New("WithSnapshotFile: empty path"))
			return
		}
		c.sources = append(c.sources, &source.File{Path: path})
	}
}

// WithPollInterval sets how often WithSnapshotFile looks at its file (default one second).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, errors.New("WithPollInterval: interval must be positive"))
			return
		}
		c.pollInterval = d
	}
}

// WithSnapshot serves a snapshot given in memory (tests, embedded defaults, snapshots the
// application fetches itself). The client does not keep data: it copies what it needs.
func WithSnapshot(data []byte) Option {
	return func(c *config) {
		c.sources = append(c.sources, source.Bytes(clone(data)))
	}
}

// WithBootstrap gives a snapshot to serve when the source fails at start and the offline
// cache has nothing newer. The client reports STALE while serving it.
func WithBootstrap(data []byte) Option {
	return func(c *config) { c.bootstrap = clone(data) }
}

// WithOfflineCache keeps the last good snapshot from the source in dir (as
// dir/snapshot.json, written to a temporary file and renamed, so it is never torn). When the
// source fails at start the client serves the cached snapshot and reports STALE. Give each
// client (each environment) its own directory.
func WithOfflineCache(dir string) Option {
	return func(c *config) {
		if dir == "" {
			c.errs = append(c.errs, errors.New("WithOfflineCache: empty directory"))
		}
		c.cacheDir = dir
	}
}

// WithPoolSize sets the number of wasm instances serving evaluations concurrently (default
// GOMAXPROCS). More than GOMAXPROCS buys nothing; fewer saves memory (each instance holds
// its own copy of the compiled snapshot).
func WithPoolSize(n int) Option {
	return func(c *config) {
		if n < 1 {
			c.errs = append(c.errs, errors.New("WithPoolSize: size must be at least 1"))
			return
		}
		c.poolSize = n
	}
}

// WithCompilationCache sets the directory where wazero caches the compiled wasm module
// (default: the user cache directory, vexil/wazero), so a restart skips compilation.
func WithCompilationCache(dir string) Option {
	return func(c *config) { c.wazeroCache = dir }
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
