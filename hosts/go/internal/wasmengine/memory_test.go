package wasmengine

import (
	"fmt"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// TestGuestMemoryFlat is the proof that an instance can serve for ever: 1,000,000
// evaluations and 100 snapshot loads on one instance leave linear memory no larger than it
// was after the first 10,000 evaluations and 10 loads. Linear memory never shrinks, so a guest
// that leaks — allocations on the evaluation path its collector never frees, or stale
// snapshots kept alive by the collector (TinyGo's conservative root scan once grew a reloaded
// instance from 12 to 96 MiB in 20 loads: see build.sh, "TinyGo runtime patches") — fails.
//
// The loads cycle through three snapshots of different sizes (so freed memory must be reused
// for differently sized objects), each followed by 10,000 evaluations over 100 requests; a
// sample of the results is checked against the native core so that the work is real.
func TestGuestMemoryFlat(t *testing.T) {
	const (
		loads       = 100
		warmLoads   = 10
		evalsPerRun = 10_000 // per load: 1,000,000 in all, 100,000 after warmLoads
		perRequest  = 100
	)
	type snap struct {
		data   []byte
		native *core.Evaluator
	}
	var snaps []snap
	for i, n := range []int{120, 200, 80} {
		data := genSnapshot(n, int64(10+i))
		ev, err := core.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap{data, ev})
	}
	const mib = 1 << 20
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		var enc abi.Encoder
		var warm uint32
		evals := 0
		for load := 1; load <= loads; load++ {
			s := snaps[load%len(snaps)]
			if _, err := in.Load(s.data); err != nil {
				t.Fatalf("load %d: %v", load, err)
			}
			n := int32(in.FlagCount())
			ctx := s.native.NewContext()
			for req := 0; req < evalsPerRun/perRequest; req++ {
				key := fmt.Sprintf("user-%d", (load*7919+req*104729)%1_000_000)
				if err := in.SetContext(genContexts(ctx, &enc, in, key)); err != nil {
					t.Fatalf("load %d: set-context: %v", load, err)
				}
				for j := range int32(perRequest) {
					i := (int32(req)*perRequest + j) % n
					r := in.Evaluate(i)
					if j == 0 {
						if want := s.native.Evaluate(int(i), ctx); r != want {
							t.Fatalf("load %d, %s, flag %d: wasm %+v, native %+v", load, key, i, r, want)
						}
					}
				}
				evals += perRequest
			}
			if in.Broken() {
				t.Fatalf("load %d: %v", load, in.Err())
			}
			if load == warmLoads {
				warm = in.mem.Size()
			}
		}
		if evals != loads*evalsPerRun {
			t.Fatalf("%d evaluations, want %d", evals, loads*evalsPerRun)
		}
		final := in.mem.Size()
		t.Logf("linear memory after %d loads and %d evaluations: %.2f MiB; after %d loads and %d evaluations: %.2f MiB",
			warmLoads, warmLoads*evalsPerRun, float64(warm)/mib, loads, evals, float64(final)/mib)
		if final > warm {
			t.Errorf("linear memory grew from %.2f MiB (after %d loads, %d evaluations) to %.2f MiB (after %d loads, %d evaluations): the guest keeps memory it no longer uses",
				float64(warm)/mib, warmLoads, warmLoads*evalsPerRun, float64(final)/mib, loads, evals)
		}
	})
}

// TestGuestMemoryLargeReloads reloads a 1,000-flag snapshot (555 KB) in place, as a long-lived
// host might: after a few loads linear memory must stop growing (the Go build's runtime takes
// about 20 loads to reach its working size).
func TestGuestMemoryLargeReloads(t *testing.T) {
	data := genSnapshot(1000, 1)
	const mib = 1 << 20
	const warmLoads, loads = 20, 40
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		var warm uint32
		for load := 1; load <= loads; load++ {
			if _, err := in.Load(data); err != nil {
				t.Fatalf("load %d: %v", load, err)
			}
			if load == warmLoads {
				warm = in.mem.Size()
			}
		}
		final := in.mem.Size()
		t.Logf("%d loads of %d KB: %.2f MiB after %d, %.2f MiB after %d", loads, len(data)/1000,
			float64(warm)/mib, warmLoads, float64(final)/mib, loads)
		if final > warm {
			t.Errorf("linear memory grew from %.2f MiB after %d loads to %.2f MiB after %d", float64(warm)/mib, warmLoads, float64(final)/mib, loads)
		}
	})
}
