package vexil

import (
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/gen"
)

// Budgets (issue 6, DESIGN.md; medians on the 2-core machine): through the public API, a
// Handle's check ≤ 300 ns with 0 allocations on wasm and ≤ 60 ns on native; All ≤ 150 ns per
// flag on wasm; static and disabled flags ≤ 30 ns; RunParallel on 2 cores ≥ 1.6× one core.
// Every benchmark runs both engines (…/wasm/…, …/native/…), so one run gives the ratios.

const benchSnapshot = `{"schemaVersion": 1, "environment": "bench", "version": 1, "flags": [
 {"key": "static", "enabled": true, "variations": [false, true], "offVariation": 0, "fallthrough": {"variation": 1}},
 {"key": "disabled", "enabled": false, "variations": [false, true], "offVariation": 0, "fallthrough": {"variation": 1}},
 {"key": "paying", "enabled": true, "variations": [false, true], "offVariation": 0,
  "rules": [{"id": "plans", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]}], "variation": 1}],
  "fallthrough": {"variation": 0}},
 {"key": "rollout", "enabled": true, "variations": [false, true], "offVariation": 0,
  "fallthrough": {"rollout": {"variations": [{"variation": 1, "weight": 25000}, {"variation": 0, "weight": 75000}]}}}
]}`

var benchContext = Context{TargetingKey: "user-500", Attributes: map[string]any{"plan": "pro", "country": "DE"}}

func benchClient(b *testing.B, e Engine, snapshot []byte) *Client {
	b.Helper()
	return newClient(b, e, WithSnapshot(snapshot))
}

// BenchmarkHandle is the fast path: one context bound, one flag checked per iteration.
func BenchmarkHandle(b *testing.B) {
	for _, e := range engines {
		c := benchClient(b, e, []byte(benchSnapshot))
		for _, flag := range []string{"static", "disabled", "paying", "rollout"} {
			b.Run(e.String()+"/"+flag, func(b *testing.B) {
				h := c.For(benchContext)
				if _, d := h.BoolDetail(flag, false); d.Err != nil {
					b.Fatal(d.Err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					h.Bool(flag, false)
				}
			})
		}
	}
}

// BenchmarkRequest is one request: bind a context (Reset keeps the Handle's storage), check
// one rule flag — the context crosses into the engine each time.
func BenchmarkRequest(b *testing.B) {
	for _, e := range engines {
		c := benchClient(b, e, []byte(benchSnapshot))
		b.Run(e.String(), func(b *testing.B) {
			h := c.For(benchContext)
			h.Bool("paying", false)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.Reset(benchContext)
				h.Bool("paying", false)
			}
		})
	}
}

// BenchmarkClientBool is the one-shot getter (a pooled Handle per call).
func BenchmarkClientBool(b *testing.B) {
	for _, e := range engines {
		c := benchClient(b, e, []byte(benchSnapshot))
		b.Run(e.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Bool(benchContext, "paying", false)
			}
		})
	}
}

// BenchmarkAll evaluates a generated 1,000-flag snapshot for a typical context; ns/flag is
// the budgeted figure.
func BenchmarkAll(b *testing.B) {
	snap := gen.Snapshot(1000, 1)
	for _, e := range engines {
		c := benchClient(b, e, snap)
		b.Run(e.String(), func(b *testing.B) {
			h := c.For(genContext())
			if a := h.All(); a.Err() != nil || a.Len() != 1000 {
				b.Fatalf("All: %d flags, %v", a.Len(), a.Err())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.All()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/flag")
		})
	}
}

// genContext is gen.Context's request as a public Context.
func genContext() Context {
	return Context{TargetingKey: "user-4711", Attributes: gen.Attributes, Now: timeOf(gen.Now)}
}

// BenchmarkParallel checks a rule flag from every P, each goroutine with its own Handle;
// compare with BenchmarkHandle/…/paying for the scaling.
func BenchmarkParallel(b *testing.B) {
	for _, e := range engines {
		c := benchClient(b, e, []byte(benchSnapshot))
		b.Run(e.String()+"/paying", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				h := c.For(benchContext)
				for pb.Next() {
					h.Bool("paying", false)
				}
			})
		})
	}
}

func timeOf(ms int64) time.Time { return time.UnixMilli(ms) }

// BenchmarkLoad is one snapshot swap's work off the hot path: a generated 1,000-flag snapshot
// parsed and compiled (native), or loaded into a fresh pool of GOMAXPROCS instances plus the
// host catalog (wasm).
func BenchmarkLoad(b *testing.B) {
	snap := gen.Snapshot(1000, 1)
	for _, e := range engines {
		c := benchClient(b, e, []byte(benchSnapshot))
		b.Run(e.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g, err := c.load(snap)
				if err != nil {
					b.Fatal(err)
				}
				if g.pool != nil {
					g.pool.Retire()
				}
			}
		})
	}
}
