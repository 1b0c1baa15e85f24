//go:build !race

// The race detector makes sync.Pool drop items at random, so regexp matching allocates under
// -race; allocation counts are only meaningful without it.

package core_test

import (
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
)

// Evaluate promises not to allocate; these tests hold it to that outside the benchmarks, so a
// regression fails `go test` rather than waiting for someone to read benchmark output.

const allocRuns = 1000

func TestAllocsEvaluate(t *testing.T) {
	for _, sc := range evalScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ev, i, ctx := sc.prepare(t)
			if n := testing.AllocsPerRun(allocRuns, func() { sink = ev.Evaluate(i, ctx) }); n != 0 {
				t.Errorf("Evaluate allocates %.2f times per call, want 0", n)
			}
		})
	}
}

func TestAllocsEvaluateAll(t *testing.T) {
	check := func(t *testing.T, ev *core.Evaluator, ctx *core.Context) {
		t.Helper()
		out := ev.EvaluateAll(ctx, nil) // the first call sizes the slice
		if n := testing.AllocsPerRun(allocRuns/10, func() { out = ev.EvaluateAll(ctx, out) }); n != 0 {
			t.Errorf("EvaluateAll with a reused slice allocates %.2f times per call, want 0", n)
		}
	}
	for _, sc := range evalScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ev, _, ctx := sc.prepare(t)
			check(t, ev, ctx)
		})
	}
	t.Run("gen-1000-flags", func(t *testing.T) {
		ev := mustLoad(t, gen.Snapshot(1000, 1))
		check(t, ev, genContext(ev))
	})
}

// TestAllocsEveryOperator evaluates every flag of the fuzz snapshots, which cover every
// operator, prerequisites, schedules, rollouts and experiments, with contexts that reach
// their rules: none may allocate.
func TestAllocsEveryOperator(t *testing.T) {
	for _, data := range fuzzSnapshots(t) {
		ev := mustLoad(t, data)
		for _, c := range fuzzContexts {
			ctx := ev.NewContext()
			if ctx.SetJSON([]byte(c)) != nil {
				continue
			}
			ctx.Now = 1795651200000
			for i := range ev.Snapshot().Flags {
				if n := testing.AllocsPerRun(100, func() { sink = ev.Evaluate(i, ctx) }); n != 0 {
					t.Errorf("flag %q with context %s: Evaluate allocates %.2f times per call, want 0",
						ev.Snapshot().Flags[i].Key, c, n)
				}
			}
		}
	}
}
