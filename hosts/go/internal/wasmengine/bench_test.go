package wasmengine

import (
	"context"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// Budgets (DESIGN.md, medians on the 2-core machine): TinyGo module in wazero, one evaluation
// with the context set once ≤ 300 ns and 0 host allocations; evaluate-all ≤ 150 ns per flag;
// instantiate ≤ 1 ms; wasm ÷ native ≤ 5× for one evaluation and ≤ 4× for all flags, same
// scenario, same run. Every benchmark runs the native core next to both modules
// (.../native/..., .../tinygo/..., .../go/...) so one run yields the ratios.

type benchAttr struct {
	name string
	v    any // string, float64, bool, []string
}

type benchScenario struct {
	name     string
	snapshot []byte
	flag     string
	key      string
	attrs    []benchAttr
}

func benchSnapshot(flag string) []byte {
	return []byte(`{"schemaVersion": 1, "environment": "bench", "version": 1, "flags": [` + flag + `]}`)
}

// The scenarios of core's BenchmarkEvaluate of the same names.
func benchScenarios() []benchScenario {
	return []benchScenario{
		{
			name: "static",
			snapshot: benchSnapshot(`{"key": "static", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"variation": 1}}`),
			flag: "static", key: "user-500",
		},
		{
			name: "rule-match",
			snapshot: benchSnapshot(`{"key": "paying", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "plans", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]}], "variation": 1}],
				"fallthrough": {"variation": 0}}`),
			flag: "paying", key: "user-500", attrs: []benchAttr{{"plan", "pro"}},
		},
		{
			name: "rollout",
			snapshot: benchSnapshot(`{"key": "rollout", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"rollout": {"variations": [{"variation": 1, "weight": 25000}, {"variation": 0, "weight": 75000}]}}}`),
			flag: "rollout", key: "user-500",
		},
		{
			name: "rule-10-clauses",
			snapshot: benchSnapshot(`{"key": "ten", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "everything", "match": "all", "clauses": [
					{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]},
					{"attribute": "country", "op": "in", "values": ["DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES"]},
					{"attribute": "email", "op": "endsWith", "values": ["@example.com"]},
					{"attribute": "email", "op": "startsWith", "values": ["jane"]},
					{"attribute": "platform", "op": "equals", "values": ["web"]},
					{"attribute": "seats", "op": "gte", "values": [10]},
					{"attribute": "seats", "op": "lt", "values": [1000]},
					{"attribute": "appVersion", "op": "semverGte", "values": ["4.2.0"]},
					{"attribute": "beta", "op": "equals", "values": [true]},
					{"attribute": "groups", "op": "contains", "values": ["adm"]}
				], "variation": 1}],
				"fallthrough": {"variation": 0}}`),
			flag: "ten", key: "user-500",
			attrs: []benchAttr{{"plan", "pro"}, {"country", "DE"}, {"email", "jane.doe@example.com"},
				{"platform", "web"}, {"seats", 25.0}, {"appVersion", "4.3.1"}, {"beta", true},
				{"groups", []string{"eu", "admins"}}},
		},
	}
}

// fill sets the scenario's request on a native context and, when in is not nil, encodes it
// for the instance.
func (sc *benchScenario) fill(ctx *core.Context, enc *abi.Encoder, in *Instance) []byte {
	ctx.Reset()
	ctx.SetTargetingKey(sc.key)
	for _, a := range sc.attrs {
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
	if in == nil {
		return nil
	}
	enc.Reset(0, 0)
	enc.String(0, sc.key)
	for _, a := range sc.attrs {
		id := in.AttributeID(a.name)
		if id < 0 {
			continue
		}
		switch v := a.v.(type) {
		case string:
			enc.String(uint32(id), v)
		case float64:
			enc.Number(uint32(id), v)
		case bool:
			enc.Bool(uint32(id), v)
		case []string:
			enc.Strings(uint32(id), v)
		}
	}
	return enc.Bytes()
}

var benchSink core.Result

func BenchmarkEvaluate(b *testing.B) {
	for _, sc := range benchScenarios() {
		b.Run("native/"+sc.name, func(b *testing.B) {
			ev, err := core.Load(sc.snapshot)
			if err != nil {
				b.Fatal(err)
			}
			i := ev.FlagIndex(sc.flag)
			ctx := ev.NewContext()
			sc.fill(ctx, nil, nil)
			b.ReportAllocs()
			var r core.Result
			for b.Loop() {
				r = ev.Evaluate(i, ctx)
			}
			benchSink = r
		})
	}
	for _, em := range modules(b) {
		for _, sc := range benchScenarios() {
			b.Run(em.name+"/"+sc.name, func(b *testing.B) {
				ev, err := core.Load(sc.snapshot)
				if err != nil {
					b.Fatal(err)
				}
				in := loaded(b, em.mod, sc.snapshot)
				ctx := ev.NewContext()
				var enc abi.Encoder
				if err := in.SetContext(sc.fill(ctx, &enc, in)); err != nil {
					b.Fatal(err)
				}
				i := in.FlagIndex(sc.flag)
				if got, want := in.Evaluate(i), ev.Evaluate(int(i), ctx); got != want {
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

func BenchmarkEvaluateAll(b *testing.B) {
	const n = 1000
	data := genSnapshot(n, 1)
	ev, err := core.Load(data)
	if err != nil {
		b.Fatal(err)
	}
	perFlag := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/flag")
	}
	b.Run("native/1000-flags", func(b *testing.B) {
		ctx := ev.NewContext()
		genContextsNative(ctx)
		out := ev.EvaluateAll(ctx, nil)
		b.ReportAllocs()
		for b.Loop() {
			out = ev.EvaluateAll(ctx, out)
		}
		perFlag(b)
	})
	for _, em := range modules(b) {
		b.Run(em.name+"/1000-flags", func(b *testing.B) {
			in := loaded(b, em.mod, data)
			ctx := ev.NewContext()
			var enc abi.Encoder
			if err := in.SetContext(genContexts(ctx, &enc, in, "user-4242")); err != nil {
				b.Fatal(err)
			}
			out := in.EvaluateAll(nil)
			nat := ev.EvaluateAll(ctx, nil)
			for i := range out {
				if out[i] != nat[i] {
					b.Fatalf("flag %d: wasm %+v native %+v", i, out[i], nat[i])
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				out = in.EvaluateAll(out)
			}
			perFlag(b)
		})
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

// BenchmarkLoad measures loading 1,000 flags: 1000/<engine> into a fresh instance each time
// (how hosts take a new snapshot; instantiating and closing are not timed), and
// 1000-in-place/<engine> into the same instance again and again.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	data := genSnapshot(1000, 1)
	b.Run("1000/native", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := core.Load(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, em := range modules(b) {
		b.Run("1000/"+em.name, func(b *testing.B) {
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
		b.Run("1000-in-place/"+em.name, func(b *testing.B) {
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
