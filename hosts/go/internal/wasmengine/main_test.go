package wasmengine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// The built modules every test and benchmark runs. They are build outputs, never skipped:
// a missing one fails the test (make test builds them first).
var moduleFiles = []struct{ name, file string }{
	{"tinygo", "vexil.wasm"},
	{"go", "vexil-go.wasm"},
}

// repoRoot is the module root, found from this file's path.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// distPath is a built module: in dist/, or in $VEXIL_WASM_DIR when set (to test other builds).
func distPath(file string) string {
	if dir := os.Getenv("VEXIL_WASM_DIR"); dir != "" {
		return filepath.Join(dir, file)
	}
	return filepath.Join(repoRoot(), "dist", file)
}

// shared holds one runtime (with a compilation cache in a temporary directory) and the modules
// compiled once per test binary.
var shared struct {
	mu       sync.Mutex
	cacheDir string
	rt       *Runtime
	mods     map[string]*Module
	paths    map[*Module]string
	errs     map[string]error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vexil-wazero-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.cacheDir = dir
	if fuzzWorker() {
		// The fuzzer restarts its workers now and then, and each compiled the Go-built module
		// cold (seconds): its workers share one cache (wazero writes entries atomically).
		shared.cacheDir = filepath.Join(os.TempDir(), "vexil-wazero-fuzz-cache")
	}
	code := m.Run()
	if shared.rt != nil {
		_ = shared.rt.Close(context.Background())
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// fuzzWorker reports whether this process is a worker of `go test -fuzz`.
func fuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

type engineModule struct {
	name string
	mod  *Module
	size int
}

// modules returns the built modules. A missing or unusable module fails tb (with the command
// that builds it); the modules that do work are still returned, and tb stops when none does.
func modules(tb testing.TB) []engineModule {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	ctx := context.Background()
	initShared(tb)
	var out []engineModule
	for _, f := range moduleFiles {
		path := distPath(f.file)
		if _, done := shared.mods[f.name]; !done && shared.errs[f.name] == nil {
			data, err := os.ReadFile(path)
			if err != nil {
				shared.errs[f.name] = fmt.Errorf("%s is missing (%v): run ./build.sh wasm (make test builds it first)", path, err)
			} else if mod, err := shared.rt.Compile(ctx, data); err != nil {
				shared.errs[f.name] = fmt.Errorf("%s: %v", path, err)
			} else {
				shared.mods[f.name] = mod
				shared.paths[mod] = path
			}
		}
		if err := shared.errs[f.name]; err != nil {
			tb.Errorf("module %s: %v", f.name, err)
			continue
		}
		st, _ := os.Stat(path)
		out = append(out, engineModule{name: f.name, mod: shared.mods[f.name], size: int(st.Size())})
	}
	if len(out) == 0 {
		tb.FailNow()
	}
	return out
}

// initShared creates the shared runtime; shared.mu is held.
func initShared(tb testing.TB) {
	if shared.rt != nil {
		return
	}
	rt, err := NewRuntime(context.Background(), Config{CacheDir: shared.cacheDir})
	if err != nil {
		tb.Fatal(err)
	}
	shared.rt = rt
	shared.mods = map[string]*Module{}
	shared.paths = map[*Module]string{}
	shared.errs = map[string]error{}
}

// sharedRuntime returns the runtime the built modules are compiled in.
func sharedRuntime(tb testing.TB) *Runtime {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	initShared(tb)
	return shared.rt
}

// forEachModule runs fn as a subtest per built module.
func forEachModule(t *testing.T, fn func(t *testing.T, m *Module)) {
	t.Helper()
	for _, em := range modules(t) {
		t.Run(em.name, func(t *testing.T) { fn(t, em.mod) })
	}
}

// newInstance instantiates m and closes the instance when the test ends.
func newInstance(tb testing.TB, m *Module) *Instance {
	tb.Helper()
	in, err := m.Instantiate(context.Background())
	if err != nil {
		tb.Fatalf("instantiate: %v", err)
	}
	tb.Cleanup(func() { _ = in.Close() })
	return in
}

// loaded instantiates m and loads snapshot, failing on any error.
func loaded(tb testing.TB, m *Module, snapshot []byte) *Instance {
	tb.Helper()
	in := newInstance(tb, m)
	if _, err := in.Load(snapshot); err != nil {
		tb.Fatalf("load: %v", err)
	}
	return in
}

// encodeContextJSON turns a flat context object in OpenFeature's shape into the binary
// encoding, as a host does: names resolved to ids with id (unknown names dropped),
// targetingKey at id 0, values strings, numbers, booleans or arrays of strings. It rejects
// what core.Context.SetJSON rejects.
func encodeContextJSON(enc *abi.Encoder, data []byte, now int64, random uint32, id func(string) int32) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("context: %v", err)
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names) // a deterministic encoding
	enc.Reset(now, random)
	for _, name := range names {
		var v any
		if err := json.Unmarshal(obj[name], &v); err != nil {
			return nil, fmt.Errorf("context.%s: %v", name, err)
		}
		if name == "targetingKey" {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("context.%s: must be a string", name)
			}
			enc.String(0, s)
			continue
		}
		var list []string
		if a, ok := v.([]any); ok {
			list = []string{}
			for _, e := range a {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("context.%s: arrays must hold only strings", name)
				}
				list = append(list, s)
			}
		}
		switch v.(type) {
		case string, float64, bool, []any:
		default:
			return nil, fmt.Errorf("context.%s: unsupported type %T", name, v)
		}
		i := id(name)
		if i < 0 {
			continue
		}
		switch v := v.(type) {
		case string:
			enc.String(uint32(i), v)
		case float64:
			enc.Number(uint32(i), v)
		case bool:
			enc.Bool(uint32(i), v)
		default:
			enc.Strings(uint32(i), list)
		}
	}
	return enc.Bytes(), nil
}

// appendResultJSON renders a wasm result exactly as core.Evaluator.AppendJSON renders a native
// one, reading the value and rule id from the instance.
func appendResultJSON(dst []byte, in *Instance, key string, r core.Result, defaultJSON string) []byte {
	value, ruleID := defaultJSON, ""
	if r.Variation >= 0 && r.Flag >= 0 {
		value = in.VariationJSON(r.Flag, r.Variation)
	}
	if r.Rule >= 0 && r.Flag >= 0 {
		ruleID = in.RuleID(r.Flag, r.Rule)
	}
	return core.AppendResultJSON(dst, key, r, value, ruleID)
}
