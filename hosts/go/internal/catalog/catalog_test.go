package catalog

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
	"github.com/vexil-flags/vexil/hosts/go/internal/embedded"
	"github.com/vexil-flags/vexil/hosts/go/internal/wasmengine"
	"github.com/vexil-flags/vexil/internal/gen"
)

// TestSameFromBothEngines: the catalog built from a wasm instance equals the one built from
// the native core — keys, kinds, decoded values, rule ids, which flags are static and every
// typed result of those — for a generated 1,000-flag snapshot and every golden-vector suite.
func TestSameFromBothEngines(t *testing.T) {
	ctx := context.Background()
	rt, err := wasmengine.NewRuntime(ctx, wasmengine.Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	mod, err := rt.Compile(ctx, embedded.Module)
	if err != nil {
		t.Fatal(err)
	}
	snapshots := map[string][]byte{"generated": gen.Snapshot(1000, 1)}
	f, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Suites {
		snapshots[s.Name] = s.Snapshot
	}
	statics := 0
	for name, snap := range snapshots {
		ev, err := core.Load(snap)
		if err != nil {
			continue // rejected whole: no catalog
		}
		in, err := mod.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Load(snap); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wasm, err := FromInstance(in, snap)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		native := FromNative(ev)
		if wasm.Environment != native.Environment || wasm.Version != native.Version || !slices.Equal(wasm.Problems, native.Problems) {
			t.Errorf("%s: header %q %d %q, native %q %d %q", name, wasm.Environment, wasm.Version, wasm.Problems, native.Environment, native.Version, native.Problems)
		}
		if !reflect.DeepEqual(wasm.attrs, native.attrs) || !reflect.DeepEqual(wasm.index, native.index) {
			t.Errorf("%s: attribute or key index differs", name)
		}
		if len(wasm.Flags) != len(native.Flags) {
			t.Fatalf("%s: %d flags, native %d", name, len(wasm.Flags), len(native.Flags))
		}
		for i := range native.Flags {
			w, n := &wasm.Flags[i], &native.Flags[i]
			if ev.Snapshot().Flags[i].Rejected {
				continue // the engines report what they parsed of a rejected flag differently, and it is never served
			}
			if !reflect.DeepEqual(w, n) {
				t.Errorf("%s: flag %d:\nwasm   %+v\nnative %+v", name, i, *w, *n)
			}
			if n.Static {
				statics++
			}
		}
		_ = in.Close()
	}
	if statics == 0 {
		t.Error("no static flag compared")
	}
}
