package wasmengine

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// FuzzDifferential checks that both modules evaluate exactly as the native core: random valid
// snapshots (internal/gen, size and seed from the fuzzer) and random requests (every attribute
// the generated rules read, with fuzzer-chosen values, time and random number) must give, for
// every flag, the same packed result, variation JSON and rule id natively, from evaluate,
// evaluate-typed and evaluate-all, on the TinyGo and the Go-built module. The committed seed
// corpus (testdata/fuzz/FuzzDifferential) and the seeds below run in every `go test`;
// `make fuzz` explores further.
func FuzzDifferential(f *testing.F) {
	f.Add(uint8(40), int64(1), "user-42", "pro", "DE", "jane.doe@example.com", "4.3.1", "web", "acct-4711", 25.0, true, "admins,eu", int32(0), uint32(0x9e3779b9), uint8(0))
	f.Add(uint8(12), int64(7), "", "free", "US", "qa+bot-1@example.com", "3.9.9", "ios", "", 0.0, false, "", int32(-30), uint32(0), uint8(1))
	f.Add(uint8(63), int64(-3), "user-999999", "enterprise", "FR", "x@y", "not-a-version", "", "acct-1", 1e9, true, "vip", int32(60), uint32(math.MaxUint32), uint8(4))
	f.Add(uint8(1), int64(42), "ü✓\x00", "", "", "", "", "", "", math.Inf(-1), false, ",,", int32(400), uint32(1), uint8(5))
	f.Add(uint8(25), int64(99), "user-5", "starter", "NL", "@example.com", "4.0.0-beta.1", "android", "acct-4711", 500.0, false, "vip,admins", int32(-400), uint32(12345), uint8(3))

	// One instance per module for the whole run, made before fuzzing starts (compiling the
	// Go-built module takes seconds, and each input has ten): every input loads its snapshot
	// into it, which exercises reloading too.
	type engine struct {
		name string
		in   *Instance
	}
	var engines []engine
	for _, em := range modules(f) {
		in, err := em.mod.Instantiate(context.Background())
		if err != nil {
			f.Fatalf("%s: instantiate: %v", em.name, err)
		}
		engines = append(engines, engine{em.name, in})
	}
	f.Cleanup(func() {
		for _, e := range engines {
			_ = e.in.Close()
		}
	})
	f.Fuzz(func(t *testing.T, nFlags uint8, seed int64, key, plan, country, email, appVersion, platform, accountID string,
		seats float64, beta bool, groups string, days int32, random uint32, kind uint8) {
		data := genSnapshot(1+int(nFlags%64), seed)
		native, err := core.Load(data)
		if err != nil {
			t.Fatalf("generated snapshot (%d flags, seed %d) does not load: %v", 1+nFlags%64, seed, err)
		}
		now := genNow + int64(days%800)*86_400_000
		attrs := []genAttribute{
			{"plan", plan}, {"country", country}, {"email", email}, {"appVersion", appVersion},
			{"platform", platform}, {"accountId", accountID}, {"seats", seats}, {"beta", beta},
			{"groups", strings.Split(groups, ",")},
		}
		typ := core.Type(kind % 6)
		var enc abi.Encoder
		for i := range engines {
			e := &engines[i]
			if e.in.Broken() {
				t.Fatalf("%s: instance broken by an earlier input: %v", e.name, e.in.Err())
			}
			if _, err := e.in.Load(data); err != nil {
				t.Fatalf("%s: load: %v", e.name, err)
			}
			ctx := native.NewContext()
			ctx.Now, ctx.Random = now, random
			enc.Reset(now, random)
			ctx.SetTargetingKey(key)
			enc.String(0, key)
			for _, a := range attrs {
				setAttribute(ctx, &enc, e.in.AttributeID(a.name), a.name, a.v)
			}
			if err := e.in.SetContext(enc.Bytes()); err != nil {
				t.Fatalf("%s: set-context: %v", e.name, err)
			}
			all := e.in.EvaluateAll(nil)
			nall := native.EvaluateAll(ctx, nil)
			if len(all) != len(nall) {
				t.Fatalf("%s: evaluate-all gave %d results, native %d", e.name, len(all), len(nall))
			}
			for i := range nall {
				want := nall[i]
				if got := e.in.Evaluate(int32(i)); got != want {
					t.Fatalf("%s: flag %d: evaluate %s, native %s", e.name, i, describe(got), describe(want))
				}
				if all[i] != want {
					t.Fatalf("%s: flag %d: evaluate-all %s, native %s", e.name, i, describe(all[i]), describe(want))
				}
				if got, want := e.in.EvaluateTyped(int32(i), typ), native.EvaluateTyped(i, ctx, typ); got != want {
					t.Fatalf("%s: flag %d, type %d: evaluate-typed %s, native %s", e.name, i, typ, describe(got), describe(want))
				}
				if want.Variation >= 0 {
					if got, nv := e.in.VariationJSON(int32(i), want.Variation), native.Value(want, ""); got != nv {
						t.Fatalf("%s: flag %d: variation JSON %q, native %q", e.name, i, got, nv)
					}
				}
				if got, nid := e.in.RuleID(int32(i), want.Rule), native.RuleID(want); got != nid {
					t.Fatalf("%s: flag %d: rule id %q, native %q", e.name, i, got, nid)
				}
				key := native.Snapshot().Flags[i].Key
				if got, nj := appendResultJSON(nil, e.in, key, want, "null"), native.AppendJSON(nil, key, want, "null"); !bytes.Equal(got, nj) {
					t.Fatalf("%s: flag %d: wasm renders %s, native %s", e.name, i, got, nj)
				}
			}
		}
	})
}

// describe renders a result with its packed form, for failure messages.
func describe(r core.Result) string {
	return fmt.Sprintf("{flag %d variation %d rule %d %v %v experiment %v packed %#x}",
		r.Flag, r.Variation, r.Rule, r.Reason(), r.ErrorCode(), r.InExperiment(), r.Pack())
}
