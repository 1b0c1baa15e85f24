package wasmengine

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// Budgets (DESIGN.md, medians on the 2-core machine): TinyGo module in wazero, one evaluation
// with the context set once ≤ 300 ns and 0 host allocations; evaluate-all ≤ 150 ns per flag;
// instantiate ≤ 1 ms; wasm ÷ native ≤ 5× for one evaluation and ≤ 4× for all flags, same
// scenario, same run. Every benchmark runs the native core next to both modules
// (.../native/..., .../tinygo/..., .../go/...) so one run yields the ratios.

var benchSink core.Result

// BenchmarkEvaluate runs the single-flag scenarios of the benchmark matrix (bench/scenarios):
// <engine>/<scenario>. Each engine must give the scenario's expected answer, and each module
// the same result as the native core, before it is timed.
func BenchmarkEvaluate(b *testing.B) {
	for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
		b.Run("native/"+sc.Name, func(b *testing.B) {
			ev, err := core.Load(sc.Snapshot)
			if err != nil {
				b.Fatal(err)
			}
			i := ev.FlagIndex(sc.Flag)
			ctx := ev.NewContext()
			sc.Context(ctx)
			if r := ev.Evaluate(i, ctx); sc.CheckResult(r, ev.Value(r, "null")) != "" {
				b.Fatal(sc.CheckResult(r, ev.Value(r, "null")))
			}
			b.ReportAllocs()
			var r core.Result
			for b.Loop() {
				r = ev.Evaluate(i, ctx)
			}
			benchSink = r
		})
	}
	for _, em := range modules(b) {
		for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
			b.Run(em.name+"/"+sc.Name, func(b *testing.B) {
				ev, err := core.Load(sc.Snapshot)
				if err != nil {
					b.Fatal(err)
				}
				in := loaded(b, em.mod, sc.Snapshot)
				ctx := ev.NewContext()
				sc.Context(ctx)
				var enc abi.Encoder
				if err := in.SetContext(sc.Encode(&enc, in.AttributeID)); err != nil {
					b.Fatal(err)
				}
				i := in.FlagIndex(sc.Flag)
				got := in.Evaluate(i)
				value := ""
				if got.Variation >= 0 {
					value = in.VariationJSON(got.Flag, got.Variation)
				}
				if msg := sc.CheckResult(got, value); msg != "" {
					b.Fatal(msg)
				}
				if want := ev.Evaluate(int(i), ctx); got != want {
					b.Fatalf("wasm %+v, native %+v", got, want)
				}
				b.ReportAllocs()
				var r core.Result
				for b.Loop() {
					r = in.Evaluate(i)
				}
				benchSink = r
			})
		}
	}
}

// BenchmarkEvaluateAll runs the evaluate-all scenario (<engine>/1000-flags): every flag of a
// generated 1,000-flag snapshot, checked against the scenario's pinned answer first.
func BenchmarkEvaluateAll(b *testing.B) {
	for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
		ev, err := core.Load(sc.Snapshot)
		if err != nil {
			b.Fatal(err)
		}
		perFlag := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(sc.Want.Flags), "ns/flag")
		}
		b.Run("native/"+sc.Name, func(b *testing.B) {
			ctx := ev.NewContext()
			sc.Context(ctx)
			out := ev.EvaluateAll(ctx, nil)
			if msg := sc.CheckAll(out); msg != "" {
				b.Fatal(msg)
			}
			b.ReportAllocs()
			for b.Loop() {
				out = ev.EvaluateAll(ctx, out)
			}
			perFlag(b)
		})
		for _, em := range modules(b) {
			b.Run(em.name+"/"+sc.Name, func(b *testing.B) {
				in := loaded(b, em.mod, sc.Snapshot)
				var enc abi.Encoder
				if err := in.SetContext(sc.Encode(&enc, in.AttributeID)); err != nil {
					b.Fatal(err)
				}
				out := in.EvaluateAll(nil)
				if msg := sc.CheckAll(out); msg != "" {
					b.Fatal(msg)
				}
				b.ReportAllocs()
				for b.Loop() {
					out = in.EvaluateAll(out)
				}
				perFlag(b)
			})
		}
	}
}

// BenchmarkSetContext measures a request's context: encode 10 attributes and set them (native:
// fill a prepared context with the same attributes).
func BenchmarkSetContext(b *testing.B) {
	data := genSnapshot(1000, 1)
	ev, err := core.Load(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("native", func(b *testing.B) {
		ctx := ev.NewContext()
		b.ReportAllocs()
		for b.Loop() {
			ctx.Reset()
			genContextsNative(ctx)
		}
	})
	for _, em := range modules(b) {
		b.Run(em.name, func(b *testing.B) {
			in := loaded(b, em.mod, data)
			ctx := ev.NewContext()
			var enc abi.Encoder
			encoded := genContexts(ctx, &enc, in, "user-4242")
			if err := in.SetContext(encoded); err != nil {
				b.Fatal(err)
			}
			ids := make([]int32, len(genAttributes))
			for i, a := range genAttributes {
				ids[i] = in.AttributeID(a.name)
			}
			b.ReportAllocs()
			for b.Loop() {
				enc.Reset(genNow, 0x9e3779b9)
				enc.String(0, "user-4242")
				for i, a := range genAttributes {
					if ids[i] < 0 {
						continue
					}
					switch v := a.v.(type) {
					case string:
						enc.String(uint32(ids[i]), v)
					case float64:
						enc.Number(uint32(ids[i]), v)
					case bool:
						enc.Bool(uint32(ids[i]), v)
					case []string:
						enc.Strings(uint32(ids[i]), v)
					}
				}
				if err := in.SetContext(enc.Bytes()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// genContextsNative fills ctx with the genAttributes request.
func genContextsNative(ctx *core.Context) {
	ctx.Now, ctx.Random = genNow, 0x9e3779b9
	ctx.SetTargetingKey("user-4242")
	for _, a := range genAttributes {
		switch v := a.v.(type) {
		case string:
			ctx.SetString(a.name, v)
		case float64:
			ctx.SetNumber(a.name, v)
		case bool:
			ctx.SetBool(a.name, v)
		case []string:
			ctx.SetStrings(a.name, v)
		}
	}
}

// BenchmarkLoad runs the load scenarios: <flags>/<engine> loads into a fresh instance each
// time (how hosts take a new snapshot; instantiating and closing are not timed), and
// <flags>-in-place/<engine> loads into the same instance again and again.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for _, sc := range scenarios.Of(scenarios.KindLoad) {
		data, n := sc.Snapshot, strconv.Itoa(sc.Want.Flags)
		b.Run(n+"/native", func(b *testing.B) {
			if ev, err := core.Load(data); err != nil || len(ev.Snapshot().Flags) != sc.Want.Flags {
				b.Fatalf("load: %v", err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := core.Load(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, em := range modules(b) {
			b.Run(n+"/"+em.name, func(b *testing.B) {
				if in := loaded(b, em.mod, data); in.FlagCount() != sc.Want.Flags || len(in.Problems()) > 0 {
					b.Fatalf("loaded %d flags (problems %v), want %d", in.FlagCount(), in.Problems(), sc.Want.Flags)
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					in, err := em.mod.Instantiate(ctx)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := in.Load(data); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					_ = in.Close()
					b.StartTimer()
				}
			})
		}
		for _, em := range modules(b) {
			b.Run(n+"-in-place/"+em.name, func(b *testing.B) {
				in := newInstance(b, em.mod)
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := in.Load(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCompile compiles each module in a fresh runtime: cold (no cache) and from a warm
// file compilation cache.
func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	for _, em := range modules(b) {
		data := readModule(b, em.mod)
		b.Run(em.name+"/cold", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rt, err := NewRuntime(ctx, Config{NoCache: true})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rt.Compile(ctx, data); err != nil {
					b.Fatal(err)
				}
				_ = rt.Close(ctx)
			}
		})
		b.Run(em.name+"/cached", func(b *testing.B) {
			dir := b.TempDir()
			warm := func() {
				rt, err := NewRuntime(ctx, Config{CacheDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rt.Compile(ctx, data); err != nil {
					b.Fatal(err)
				}
				_ = rt.Close(ctx)
			}
			warm()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				warm()
			}
		})
	}
}

// BenchmarkInstanceMemory measures what one instance holding the 1,000-flag snapshot costs:
// guest-B/instance is its linear memory, host-B/instance the Go heap it adds (linear memory
// included; compiled code is shared by all instances), both over 8 live instances. The timed
// loop instantiates, loads the snapshot and closes.
func BenchmarkInstanceMemory(b *testing.B) {
	ctx := context.Background()
	data := scenarios.Lookup("load-1000-flags").Snapshot
	for _, em := range modules(b) {
		b.Run(em.name, func(b *testing.B) {
			const live = 8
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ins := make([]*Instance, 0, live)
			for range live {
				ins = append(ins, loaded(b, em.mod, data))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			guest := ins[0].mem.Size()
			for _, in := range ins {
				_ = in.Close()
			}
			for b.Loop() {
				in, err := em.mod.Instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := in.Load(data); err != nil {
					b.Fatal(err)
				}
				_ = in.Close()
			}
			// After the loop: its first iteration resets user-reported metrics.
			b.ReportMetric(float64(guest), "guest-B/instance")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/live, "host-B/instance")
		})
	}
}

// BenchmarkInstantiate instantiates (with _initialize and the ABI check) and closes.
func BenchmarkInstantiate(b *testing.B) {
	ctx := context.Background()
	for _, em := range modules(b) {
		b.Run(em.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				in, err := em.mod.Instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				_ = in.Close()
			}
		})
	}
}

// TestModuleSizes logs the size of the built modules (budget for the shipped TinyGo module:
// ≤ 350 KB raw, ≤ 150 KB gzip; reported, not enforced here).
func TestModuleSizes(t *testing.T) {
	for _, em := range modules(t) {
		t.Logf("%s: %d bytes", em.name, em.size)
	}
}

// BenchmarkBoundary is one guest call that does nothing (abi-version): the floor under every
// evaluation, to tell boundary cost from guest work.
func BenchmarkBoundary(b *testing.B) {
	for _, em := range modules(b) {
		b.Run(em.name, func(b *testing.B) {
			in := newInstance(b, em.mod)
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := in.call0(fnABIVersion); !ok {
					b.Fatal(in.Err())
				}
			}
		})
	}
}
