package core_test

import (
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
)

// Budgets (see the issue "Native evaluation core"): one evaluation ≤ 60 ns and 0 allocations;
// evaluate-all ≤ 30 ns per flag over 1,000 flags; Load ≤ 5 ms for 1,000 flags and ≤ 60 ms for
// 10,000. alloc_test.go asserts the zero allocations outside benchmarks.
//
// The scenarios are the benchmark matrix of bench/scenarios, which every engine runs.

// evalScenario is one single-flag evaluation benchmarked by BenchmarkEvaluate and checked for
// allocations by TestAllocsEvaluate.
type evalScenario struct {
	name string
	sc   *scenarios.Scenario
}

var sink core.Result

func evalScenarios() []evalScenario {
	var out []evalScenario
	for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
		out = append(out, evalScenario{name: sc.Name, sc: sc})
	}
	return out
}

// prepare loads the scenario, builds its context once, and checks that the evaluation gives
// the expected answer.
func (es *evalScenario) prepare(tb testing.TB) (*core.Evaluator, int, *core.Context) {
	tb.Helper()
	sc := es.sc
	ev := mustLoad(tb, sc.Snapshot)
	i := ev.FlagIndex(sc.Flag)
	if i < 0 {
		tb.Fatalf("%s: flag %q not found", sc.Name, sc.Flag)
	}
	ctx := ev.NewContext()
	sc.Context(ctx)
	if r := ev.Evaluate(i, ctx); sc.CheckResult(r, ev.Value(r, "null")) != "" {
		tb.Fatal(sc.CheckResult(r, ev.Value(r, "null")))
	}
	return ev, i, ctx
}

func BenchmarkEvaluate(b *testing.B) {
	for _, sc := range evalScenarios() {
		b.Run(sc.name, func(b *testing.B) {
			ev, i, ctx := sc.prepare(b)
			b.ReportAllocs()
			var r core.Result
			for b.Loop() {
				r = ev.Evaluate(i, ctx)
			}
			sink = r
		})
	}
}

// genContext is a typical request context for gen snapshots: a pro user in Germany.
func genContext(ev *core.Evaluator) *core.Context {
	ctx := gen.Context(ev, "user-4242")
	ctx.Random = 0x9e3779b9
	return ctx
}

func BenchmarkEvaluateAll(b *testing.B) {
	for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
		b.Run(sc.Name, func(b *testing.B) {
			ev := mustLoad(b, sc.Snapshot)
			ctx := ev.NewContext()
			sc.Context(ctx)
			out := ev.EvaluateAll(ctx, nil)
			if msg := sc.CheckAll(out); msg != "" {
				b.Fatal(msg)
			}
			for i, r := range out {
				if r != ev.Evaluate(i, ctx) {
					b.Fatalf("flag %q: EvaluateAll disagrees with Evaluate", ev.Snapshot().Flags[i].Key)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				out = ev.EvaluateAll(ctx, out)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(out)), "ns/flag")
		})
	}
}

// BenchmarkLoad runs the load scenarios under their flag counts: BenchmarkLoad/1000-flags, …
func BenchmarkLoad(b *testing.B) {
	for _, sc := range scenarios.Of(scenarios.KindLoad) {
		b.Run(strings.TrimPrefix(sc.Name, "load-"), func(b *testing.B) {
			if ev := mustLoad(b, sc.Snapshot); len(ev.Snapshot().Flags) != sc.Want.Flags {
				b.Fatalf("loaded %d flags, want %d", len(ev.Snapshot().Flags), sc.Want.Flags)
			}
			b.SetBytes(int64(len(sc.Snapshot)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := core.Load(sc.Snapshot); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
