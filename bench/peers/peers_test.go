package peers

import (
	"errors"
	"fmt"
	"maps"
	"sync"
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

// TestAllAnswers checks every peer's evaluate-all answers against the native core's, flag by
// flag, and that each load holds every translated flag; it logs what each translation left
// out, and fails when a peer translates less than it is known to.
func TestAllAnswers(t *testing.T) {
	minimum := map[string]int{"launchdarkly": 961, "flagd": 908, "unleash": 923, "growthbook": 961}
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
				c, err := p.All(sc)
				if err != nil {
					t.Fatalf("%s: %v", sc.Name, err)
				}
				want, err := expected(sc)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %v; %d of them with one expected value (the rest depend on a rollout)", sc.Name, c.Coverage, want.exact(c.Coverage))
				if err := CheckAll(sc, c); err != nil {
					t.Errorf("%s: %v", sc.Name, err)
				}
				if c.Coverage.Flags < minimum[p.Name] {
					t.Errorf("%s: translates %v, want at least %d", sc.Name, c.Coverage, minimum[p.Name])
				}
				if c.Close != nil {
					c.Close()
				}
			}
			for _, sc := range scenarios.Of(scenarios.KindLoad) {
				c, err := p.Load(sc)
				if err != nil {
					t.Fatalf("%s: %v", sc.Name, err)
				}
				t.Logf("%s: %v", sc.Name, c.Coverage)
				if err := CheckLoad(c); err != nil {
					t.Errorf("%s: %v", sc.Name, err)
				}
				if c.Coverage.Total != sc.Want.Flags || c.Coverage.Flags*10 < c.Coverage.Total*7 {
					t.Errorf("%s: translates %v", sc.Name, c.Coverage)
				}
			}
		})
	}
}

// BenchmarkEvaluateAll times each peer evaluating every flag it translated of the generated
// snapshot for one context (EvaluateAll/<peer>/1000-flags), after checking every answer. It
// reports ns/flag over the translated flags and the count as "flags".
func BenchmarkEvaluateAll(b *testing.B) {
	for _, p := range All() {
		for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
			c, err := p.All(sc)
			b.Run(p.Name+"/"+sc.Name, func(b *testing.B) {
				if err != nil {
					b.Fatal(err)
				}
				if err := CheckAll(sc, c); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					c.Eval()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.Coverage.Flags), "ns/flag")
				b.ReportMetric(float64(c.Coverage.Flags), "flags")
			})
			if c != nil && c.Close != nil {
				c.Close()
			}
		}
	}
}

// BenchmarkLoad times each peer parsing and preparing the generated snapshots in its own
// format (Load/<n>/<peer>), after checking that a load holds every translated flag; it
// reports the translated count as "flags". A case is translated and checked once per test
// binary, not once per -count run: flagd takes seconds to load 10,000 flags.
func BenchmarkLoad(b *testing.B) {
	for _, p := range All() {
		for _, sc := range scenarios.Of(scenarios.KindLoad) {
			b.Run(fmt.Sprintf("%d/%s", sc.Want.Flags, p.Name), func(b *testing.B) {
				c, err := checkedLoad(p, sc)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(c.Payload)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Load(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(c.Coverage.Flags), "flags")
			})
		}
	}
}

var checkedLoads sync.Map // peer/scenario → *LoadCase, checked

// checkedLoad returns p's case of sc, checked by CheckLoad the first time it is asked for.
func checkedLoad(p Peer, sc *scenarios.Scenario) (*LoadCase, error) {
	key := p.Name + "/" + sc.Name
	if c, ok := checkedLoads.Load(key); ok {
		return c.(*LoadCase), nil
	}
	c, err := p.Load(sc)
	if err != nil {
		return nil, err
	}
	if err := CheckLoad(c); err != nil {
		return nil, fmt.Errorf("%s: %v", key, err)
	}
	checkedLoads.Store(key, c)
	return c, nil
}

// TestCheckAllRejects checks that the evaluate-all check fails on a wrong, a missing and an
// extra answer.
func TestCheckAllRejects(t *testing.T) {
	sc := scenarios.Of(scenarios.KindEvaluateAll)[0]
	c, err := launchDarkly().All(sc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := expected(sc)
	if err != nil {
		t.Fatal(err)
	}
	good, err := c.Answers()
	if err != nil {
		t.Fatal(err)
	}
	if err := want.check(c.Coverage, good); err != nil {
		t.Fatal(err)
	}
	var exact string // a flag with one expected value
	for key, vs := range want {
		if c.Coverage.Kept(key) && len(vs) == 1 {
			exact = key
			break
		}
	}
	for name, mutate := range map[string]func(map[string]string){
		"wrong":   func(m map[string]string) { m[exact] = `"not a variation"` },
		"missing": func(m map[string]string) { delete(m, exact) },
		"extra":   func(m map[string]string) { m["no-such-flag"] = "true" },
	} {
		m := maps.Clone(good)
		mutate(m)
		if err := want.check(c.Coverage, m); err == nil {
			t.Errorf("%s answer: no error", name)
		}
	}
}
