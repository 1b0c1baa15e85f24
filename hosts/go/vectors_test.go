package vexil

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
)

var engines = []Engine{EngineWasm, EngineNative}

// TestMain gives every wasm client of the test binary one compilation cache in a temporary
// directory, so tests neither depend on nor write to the user's cache.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vexil-host-wazero-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCacheDir = dir
	// Clients that keep the default cache (the examples) land in the temporary directory too.
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var testCacheDir string

// newClient starts a client on the given engine with the test compilation cache.
func newClient(tb testing.TB, e Engine, opts ...Option) *Client {
	tb.Helper()
	opts = append([]Option{WithEngine(e), WithCompilationCache(testCacheDir)}, opts...)
	c, err := New(context.Background(), opts...)
	if err != nil {
		tb.Fatalf("New(%v): %v", e, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// TestGoldenVectors runs core/testdata/vectors.json through the public API — a client per
// suite, a Handle per case, the typed getter the case names (JSONDetail for untyped cases) —
// on both engines. Each result, rendered as the vectors render results, must be
// byte-identical to the native core's rendering and agree with the expectation; the typed
// value must be the rendered value.
func TestGoldenVectors(t *testing.T) {
	f, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			cases := 0
			for _, s := range f.Suites {
				t.Run(s.Name, func(t *testing.T) {
					native, nerr := core.Load(s.Snapshot)
					c, err := New(context.Background(), WithEngine(e), WithCompilationCache(testCacheDir), WithSnapshot(s.Snapshot))
					if nerr != nil {
						// A snapshot unusable as a whole: the client starts without flags.
						var nr *NotReadyError
						if err == nil || !asNotReady(err, &nr) {
							t.Fatalf("New on a rejected snapshot: %v, want a NotReadyError", err)
						}
						_ = c.Close()
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					if got, want := c.Problems(), problemTexts(native); !slices.Equal(got, want) {
						t.Errorf("problems:\n got %q\nwant %q", got, want)
					}
					ctx := native.NewContext()
					for i := range s.Cases {
						vc := &s.Cases[i]
						cases++
						n, err := vc.EvaluateNative(native, ctx)
						if err != nil {
							t.Errorf("%s: native: %v", vc.Name, err)
							continue
						}
						var attrs map[string]any
						if err := json.Unmarshal(vc.ContextJSON(), &attrs); err != nil {
							t.Fatalf("%s: context: %v", vc.Name, err)
						}
						h := c.For(Context{Attributes: attrs, Now: time.UnixMilli(vc.Now)})
						h.random = vc.Random // the vectors fix the dice
						d, typed := evalTyped(h, vc, n.Type)
						got := render(vc.Flag, d, vc.DefaultJSON())
						if !bytes.Equal(got, n.JSON) {
							t.Errorf("%s (flag %q): %v client renders\n%s\nnative renders\n%s (err %v)", vc.Name, vc.Flag, e, got, n.JSON, d.Err)
						}
						if diff := vectors.Check(vc, got); diff != "" {
							t.Errorf("%s (flag %q): %s", vc.Name, vc.Flag, diff)
						}
						if d.Variation >= 0 {
							if want := valueOfJSON(t, d.ValueJSON, n.Type); typed != want {
								t.Errorf("%s: typed value %#v, want %#v", vc.Name, typed, want)
							}
						}
						if (d.ErrorCode == ErrorNone) != (d.Err == nil) {
							t.Errorf("%s: error code %q with error %v", vc.Name, d.ErrorCode, d.Err)
						}
					}
				})
			}
			if cases == 0 {
				t.Fatal("vectors file has no cases")
			}
			t.Logf("%d cases in %d suites through the %v engine", cases, len(f.Suites), e)
		})
	}
}

func asNotReady(err error, target **NotReadyError) bool {
	nr, ok := err.(*NotReadyError)
	if ok {
		*target = nr
	}
	return ok
}

func problemTexts(ev *core.Evaluator) []string {
	var out []string
	for _, p := range ev.Snapshot().Problems {
		out = append(out, p.String())
	}
	return out
}

// evalTyped runs the getter of the case's type; the typed value is returned as any.
func evalTyped(h *Handle, vc *vectors.Case, t core.Type) (Detail, any) {
	switch t {
	case core.TypeBool:
		v, d := h.BoolDetail(vc.Flag, false)
		return d, v
	case core.TypeString:
		v, d := h.StringDetail(vc.Flag, "")
		return d, v
	case core.TypeNumber:
		v, d := h.FloatDetail(vc.Flag, 0)
		return d, v
	case core.TypeInteger:
		v, d := h.IntDetail(vc.Flag, 0)
		return d, v
	}
	v, d := h.JSONDetail(vc.Flag, nil)
	return d, string(v)
}

// valueOfJSON is what the typed getter of type t must return for a served value.
func valueOfJSON(t *testing.T, js string, typ core.Type) any {
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("value %q: %v", js, err)
	}
	switch typ {
	case core.TypeBool, core.TypeString:
		return v
	case core.TypeNumber:
		return v.(float64)
	case core.TypeInteger:
		return int64(v.(float64))
	}
	return js
}

// render writes a check's detail in the form of core.AppendResultJSON, through that very
// function, so native and client results compare byte for byte.
func render(key string, d Detail, defaultJSON string) []byte {
	var reason, code uint32
	for i, r := range reasons {
		if r == d.Reason {
			reason = uint32(i)
		}
	}
	for i, c := range errorCodes {
		if c == d.ErrorCode {
			code = uint32(i)
		}
	}
	p := uint32(d.Variation+1)&0x1fff | reason<<26 | code<<29
	if d.InExperiment {
		p |= 1 << 31
	}
	value := d.ValueJSON
	if d.Variation < 0 {
		value = defaultJSON
	}
	return core.AppendResultJSON(nil, key, core.Unpack(0, p), value, d.RuleID)
}
