package wasmengine

import (
	"fmt"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// TestGuestMemoryBounded runs an instance the way a server does — millions of evaluations over
// many contexts — and requires its linear memory to stop growing. Memory never shrinks, so a
// guest that allocates on the hot path and never frees (TinyGo's "leaking" collector, the
// default of -target=wasm-unknown) would exhaust it.
//
// It also measures reloads in place. Hosts build a fresh instance per snapshot (linear memory
// never shrinks, see notes/wasm-cost-facts.md), so growth there is logged, not failed.
func TestGuestMemoryBounded(t *testing.T) {
	data := genSnapshot(1000, 1)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		ctx := native.NewContext()
		var enc abi.Encoder
		var out []core.Result
		round := func() {
			for u := range 100 {
				if err := in.SetContext(genContexts(ctx, &enc, in, fmt.Sprintf("user-%d", u))); err != nil {
					t.Fatal(err)
				}
				for range 10 {
					out = in.EvaluateAll(out)
				}
			}
		}
		round() // warm up: buffers and caches reach their working size
		warm := in.mem.Size()
		for range 5 {
			round() // 5,000,000 flag evaluations in all
		}
		if in.Broken() {
			t.Fatal(in.Err())
		}
		if grown := in.mem.Size() - warm; grown > 4*mib {
			t.Errorf("linear memory grew by %.1f MiB over 5,000,000 evaluations after warm-up (from %.1f MiB): the guest allocates on the evaluation path and does not free",
				float64(grown)/mib, float64(warm)/mib)
		}
		t.Logf("after evaluations: %.1f MiB", float64(in.mem.Size())/mib)

		for range 3 {
			if _, err := in.Load(data); err != nil {
				t.Fatal(err)
			}
		}
		warm = in.mem.Size()
		for range 20 {
			if _, err := in.Load(data); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("20 reloads of a %d KB snapshot: linear memory %.1f MiB -> %.1f MiB",
			len(data)/1000, float64(warm)/mib, float64(in.mem.Size())/mib)
	})
}
