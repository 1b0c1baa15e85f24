package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
)

// Budgets (see the issue "Native evaluation core"): one evaluation ≤ 60 ns and 0 allocations;
// evaluate-all ≤ 30 ns per flag over 1,000 flags; Load ≤ 5 ms for 1,000 flags and ≤ 60 ms for
// 10,000. alloc_test.go asserts the zero allocations outside benchmarks.

// evalScenario is one single-flag evaluation benchmarked by BenchmarkEvaluate and checked for
// allocations by TestAllocsEvaluate.
type evalScenario struct {
	name     string
	snapshot []byte
	flag     string
	// context fills the prepared context.
	context func(ctx *core.Context)
	// want is the expected variation and reason; wantFn computes it when it depends on a
	// bucket.
	variation int32
	reason    core.Reason
	wantFn    func() (int32, core.Reason)
}

var sink core.Result

func benchSnapshot(flags []string, segments ...string) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion": 1, "environment": "bench", "version": 1, "flags": [%s], "segments": [%s]}`,
		strings.Join(flags, ",\n"), strings.Join(segments, ",\n")))
}

func quotedKeys(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"%s%d"`, prefix, i)
	}
	return b.String()
}

// rolloutWant returns the variation the published bucketing formula picks for ranges of the
// given weights, in listed order.
func rolloutWant(salt, key string, weights ...uint32) func() (int32, core.Reason) {
	return func() (int32, core.Reason) {
		b, end := core.Bucket(salt, key), uint32(0)
		for i, w := range weights {
			if end += w; b < end {
				return int32(i), core.ReasonSplit
			}
		}
		return int32(len(weights) - 1), core.ReasonSplit
	}
}

func evalScenarios() []evalScenario {
	user := func(ctx *core.Context) { ctx.SetTargetingKey("user-500") }
	return []evalScenario{
		{
			name: "static",
			snapshot: benchSnapshot([]string{`{"key": "static", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"variation": 1}}`}),
			flag: "static", context: user, variation: 1, reason: core.ReasonStatic,
		},
		{
			name: "target-hit",
			snapshot: benchSnapshot([]string{fmt.Sprintf(`{"key": "targeted", "enabled": true, "variations": [false, true], "offVariation": 0,
				"targets": [{"variation": 1, "values": [%s]}, {"variation": 0, "values": [%s]}],
				"fallthrough": {"variation": 0}}`, quotedKeys("user-", 0, 500), quotedKeys("user-", 500, 1000))}),
			flag:      "targeted",
			context:   func(ctx *core.Context) { ctx.SetTargetingKey("user-250") },
			variation: 1, reason: core.ReasonTargetingMatch,
		},
		{
			name: "rule-match",
			snapshot: benchSnapshot([]string{`{"key": "paying", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "plans", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]}], "variation": 1}],
				"fallthrough": {"variation": 0}}`}),
			flag: "paying",
			context: func(ctx *core.Context) {
				ctx.SetTargetingKey("user-500")
				ctx.SetString("plan", "pro")
			},
			variation: 1, reason: core.ReasonTargetingMatch,
		},
		{
			name: "rollout",
			snapshot: benchSnapshot([]string{`{"key": "rollout", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"rollout": {"variations": [{"variation": 1, "weight": 25000}, {"variation": 0, "weight": 75000}]}}}`}),
			flag: "rollout", context: user,
			wantFn: func() (int32, core.Reason) {
				v, r := rolloutWant("rollout", "user-500", 25000, 75000)()
				return 1 - v, r // variation 1 owns the first range
			},
		},
		{
			name: "split-3way",
			snapshot: benchSnapshot([]string{`{"key": "split", "enabled": true, "variations": ["a", "b", "c"], "offVariation": 0,
				"fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 50000}, {"variation": 1, "weight": 30000}, {"variation": 2, "weight": 20000}]}}}`}),
			flag: "split", context: user,
			wantFn: rolloutWant("split", "user-500", 50000, 30000, 20000),
		},
		{
			name: "rule-10-clauses",
			snapshot: benchSnapshot([]string{`{"key": "ten", "enabled": true, "variations": [false, true], "offVariation": 0,
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
				"fallthrough": {"variation": 0}}`}),
			flag: "ten",
			context: func(ctx *core.Context) {
				ctx.SetTargetingKey("user-500")
				ctx.SetString("plan", "pro")
				ctx.SetString("country", "DE")
				ctx.SetString("email", "jane.doe@example.com")
				ctx.SetString("platform", "web")
				ctx.SetNumber("seats", 25)
				ctx.SetString("appVersion", "4.3.1")
				ctx.SetBool("beta", true)
				ctx.SetStrings("groups", []string{"eu", "admins"})
			},
			variation: 1, reason: core.ReasonTargetingMatch,
		},
		{
			name: "segment-10k",
			snapshot: benchSnapshot([]string{`{"key": "beta", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "beta-testers", "clauses": [{"op": "inSegment", "values": ["beta-testers"]}], "variation": 1}],
				"fallthrough": {"variation": 0}}`},
				fmt.Sprintf(`{"key": "beta-testers", "included": [%s]}`, quotedKeys("user-", 0, 10000))),
			flag:      "beta",
			context:   func(ctx *core.Context) { ctx.SetTargetingKey("user-5000") },
			variation: 1, reason: core.ReasonTargetingMatch,
		},
		{
			// pc-3 requires pc-2 requires pc-1 requires pc-0: three prerequisites deep.
			name: "prerequisite-chain-3",
			snapshot: benchSnapshot([]string{
				`{"key": "pc-0", "enabled": true, "variations": [false, true], "offVariation": 0, "fallthrough": {"variation": 1}}`,
				`{"key": "pc-1", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-0", "variations": [1]}], "fallthrough": {"variation": 1}}`,
				`{"key": "pc-2", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-1", "variations": [1]}], "fallthrough": {"variation": 1}}`,
				`{"key": "pc-3", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-2", "variations": [1]}], "fallthrough": {"variation": 1}}`,
			}),
			flag: "pc-3", context: user, variation: 1, reason: core.ReasonDefault,
		},
	}
}

// prepare loads the scenario, builds its context once, and checks that the evaluation serves
// the expected variation for the expected reason.
func (sc *evalScenario) prepare(tb testing.TB) (*core.Evaluator, int, *core.Context) {
	tb.Helper()
	ev := mustLoad(tb, sc.snapshot)
	i := ev.FlagIndex(sc.flag)
	if i < 0 {
		tb.Fatalf("%s: flag %q not found", sc.name, sc.flag)
	}
	ctx := ev.NewContext()
	sc.context(ctx)
	variation, reason := sc.variation, sc.reason
	if sc.wantFn != nil {
		variation, reason = sc.wantFn()
	}
	if r := ev.Evaluate(i, ctx); r.Variation != variation || r.Reason() != reason || r.ErrorCode() != core.ErrorNone {
		tb.Fatalf("%s: got variation %d reason %v (error %v), want variation %d reason %v",
			sc.name, r.Variation, r.Reason(), r.ErrorCode(), variation, reason)
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
	b.Run("1000-flags", func(b *testing.B) {
		const n = 1000
		ev := mustLoad(b, gen.Snapshot(n, 1))
		ctx := genContext(ev)
		out := ev.EvaluateAll(ctx, make([]core.Result, 0, n))
		if len(out) != n {
			b.Fatalf("EvaluateAll returned %d results, want %d", len(out), n)
		}
		reasons := map[core.Reason]int{}
		for i, r := range out {
			if r.Reason() == core.ReasonError {
				b.Fatalf("flag %q: %v %v", ev.Snapshot().Flags[i].Key, r.Reason(), r.ErrorCode())
			}
			if r != ev.Evaluate(i, ctx) {
				b.Fatalf("flag %q: EvaluateAll disagrees with Evaluate", ev.Snapshot().Flags[i].Key)
			}
			reasons[r.Reason()]++
		}
		if len(reasons) < 4 {
			b.Fatalf("the snapshot exercises too few paths: reasons %v", reasons)
		}
		b.ReportAllocs()
		for b.Loop() {
			out = ev.EvaluateAll(ctx, out)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/flag")
	})
}

func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("%d-flags", n), func(b *testing.B) {
			data := gen.Snapshot(n, 1)
			if ev := mustLoad(b, data); len(ev.Snapshot().Flags) != n {
				b.Fatalf("loaded %d flags, want %d", len(ev.Snapshot().Flags), n)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := core.Load(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
