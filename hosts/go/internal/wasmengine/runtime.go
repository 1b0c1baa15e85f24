// Package wasmengine runs Vexil's evaluation engine — the wasm module built from wasm/guest,
// dist/vexil.wasm (TinyGo) or dist/vexil-go.wasm (standard Go, wasip1) — inside a Go process
// with wazero.
//
// A Runtime holds one wazero runtime (compiler engine, file compilation cache). Compile turns
// module bytes into a Module once and checks that it exports every function of the WIT
// contract (wasm/wit/engine.wit) with the right core signature. Module.Instantiate makes an
// Instance: one guest with its own linear memory, snapshot and context. An Instance serves one
// caller at a time; the pool above this package keeps several and hands them out.
//
// The hot path — SetContext then Evaluate, EvaluateTyped or EvaluateAll — makes no host
// allocation: calls go through api.Function.CallWithStack with a stack owned by the instance,
// and bytes cross the boundary through the guest's buffer (see the WIT `buffer` function).
//
// After a trap (any error returned by a guest call) an Instance is broken: Broken reports it,
// every later call fails or yields an error result, and the owner must Close it and build a
// fresh one. Linear memory never shrinks, so hosts also replace instances rather than reload
// one in place forever.
package wasmengine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config configures a Runtime. The zero value is a compiler runtime with the file compilation
// cache in os.UserCacheDir()/vexil/wazero.
type Config struct {
	// CacheDir is the directory of the file compilation cache. Empty means
	// os.UserCacheDir()/vexil/wazero (os.TempDir()/vexil/wazero when there is no user cache
	// directory).
	CacheDir string
	// NoCache compiles without a compilation cache: every Compile is cold.
	NoCache bool
	// MemoryLimitPages caps the linear memory of every instance, in 64 KiB pages. Zero keeps
	// wazero's default (65,536 pages, 4 GiB). A guest that outgrows the cap traps, and the
	// instance is then broken; an input (snapshot, context) larger than the cap is refused
	// before the guest sees it.
	MemoryLimitPages uint32
}

// Runtime is one wazero runtime. It is safe for concurrent use; Close it when done.
type Runtime struct {
	rt       wazero.Runtime
	cache    wazero.CompilationCache // nil without a cache
	memLimit uint64                  // bytes, from Config.MemoryLimitPages; 0 without a cap

	wasiMu   sync.Mutex
	wasiDone bool

	names atomic.Uint64 // instance name counter
}

// NewRuntime returns a runtime with wazero's compiler engine.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	rc := wazero.NewRuntimeConfigCompiler()
	if cfg.MemoryLimitPages != 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	r := &Runtime{memLimit: uint64(cfg.MemoryLimitPages) * 65536}
	if !cfg.NoCache {
		dir := cfg.CacheDir
		if dir == "" {
			dir = DefaultCacheDir()
		}
		cache, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			return nil, fmt.Errorf("wasmengine: compilation cache %s: %w", dir, err)
		}
		r.cache = cache
		rc = rc.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	return r, nil
}

// DefaultCacheDir is the compilation cache directory used when Config.CacheDir is empty.
func DefaultCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "vexil", "wazero")
}

// Close closes the runtime, every module compiled by it and every instance of them.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		if cerr := r.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}

// Module is a compiled engine module. Instantiate it as often as needed; it is safe for
// concurrent use.
type Module struct {
	r        *Runtime
	compiled wazero.CompiledModule
	wasi     bool // imports wasi_snapshot_preview1
	init     bool // exports _initialize
}

// Compile compiles an engine module (from the file cache when it holds it) and checks that it
// exports linear memory and every function of the WIT interface with its core signature.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	compiled, err := r.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("wasmengine: compile: %w", err)
	}
	m := &Module{r: r, compiled: compiled}
	if err := m.check(); err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	return m, nil
}

// check validates imports and exports.
func (m *Module) check() error {
	var others []string
	for _, def := range m.compiled.ImportedFunctions() {
		mod, name, _ := def.Import()
		if mod == wasi_snapshot_preview1.ModuleName {
			m.wasi = true
			continue
		}
		others = append(others, mod+"."+name)
	}
	if len(others) > 0 {
		sort.Strings(others)
		return fmt.Errorf("wasmengine: module imports functions this host does not provide: %s",
			strings.Join(others, ", "))
	}
	if _, ok := m.compiled.ExportedMemories()["memory"]; !ok {
		return errors.New(`wasmengine: module does not export its linear memory as "memory"`)
	}
	fns := m.compiled.ExportedFunctions()
	if def, ok := fns["_initialize"]; ok {
		if len(def.ParamTypes()) != 0 || len(def.ResultTypes()) != 0 {
			return fmt.Errorf("wasmengine: export _initialize has signature %s, want () -> ()",
				signature(def.ParamTypes(), def.ResultTypes()))
		}
		m.init = true
	}
	var problems []string
	for _, e := range exports {
		name := ExportPrefix + e.name
		def, ok := fns[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("missing export %q %s", name, signature(e.params, e.results)))
			continue
		}
		if !sameTypes(def.ParamTypes(), e.params) || !sameTypes(def.ResultTypes(), e.results) {
			problems = append(problems, fmt.Sprintf("export %q has signature %s, want %s", name,
				signature(def.ParamTypes(), def.ResultTypes()), signature(e.params, e.results)))
		}
	}
	if len(problems) > 0 {
		return errors.New("wasmengine: module does not implement the engine interface: " + strings.Join(problems, "; "))
	}
	return nil
}

// NeedsWASI reports whether the module imports WASI (the standard Go build does, the TinyGo
// build does not).
func (m *Module) NeedsWASI() bool { return m.wasi }

// Close releases the compiled module. Instances already made keep working.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

// ensureWASI instantiates wasi_snapshot_preview1 in the runtime once.
func (r *Runtime) ensureWASI(ctx context.Context) error {
	r.wasiMu.Lock()
	defer r.wasiMu.Unlock()
	if r.wasiDone {
		return nil
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		return fmt.Errorf("wasmengine: instantiate WASI: %w", err)
	}
	r.wasiDone = true
	return nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// signature renders core types as "(i32, i32) -> i64".
func signature(params, results []api.ValueType) string {
	list := func(ts []api.ValueType) string {
		names := make([]string, len(ts))
		for i, t := range ts {
			names[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(names, ", ") + ")"
	}
	return list(params) + " -> " + list(results)
}
