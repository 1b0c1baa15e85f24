package peers

import (
	"errors"
	"testing"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// TestAnswers checks every case of every peer, and that each peer expresses at least the
// scenarios it is known to support, so a peer quietly dropping out fails.
func TestAnswers(t *testing.T) {
	minimum := map[string]int{"launchdarkly": 8, "flagd": 7, "unleash": 7, "growthbook": 8}
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			n := 0
			for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
				c, err := p.Prepare(sc)
				if errors.Is(err, ErrNotExpressible) {
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", sc.Name, err)
				}
				if err := Check(sc, c); err != nil {
					t.Error(err)
				}
				if c.Close != nil {
					c.Close()
				}
				n++
			}
			if n < minimum[p.Name] {
				t.Errorf("expresses %d scenarios, want at least %d", n, minimum[p.Name])
			}
		})
	}
}

// BenchmarkEvaluate times each peer on each scenario it expresses (Evaluate/<peer>/<scenario>,
// the names bench/report reads), after checking the answer.
func BenchmarkEvaluate(b *testing.B) {
	for _, p := range All() {
		for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
			c, err := p.Prepare(sc)
			if errors.Is(err, ErrNotExpressible) {
				continue
			}
			b.Run(p.Name+"/"+sc.Name, func(b *testing.B) {
				if err != nil {
					b.Fatal(err)
				}
				if err := Check(sc, c); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					c.Eval()
				}
			})
			if c.Close != nil {
				c.Close() // after every run of the sub-benchmark (b.Run calls its body several times)
			}
		}
	}
}
