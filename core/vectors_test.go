package core_test

import (
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/core/murmur3"
	"github.com/vexil-flags/vexil/core/vectors"
)

// TestGoldenVectors runs the contract every host shares against the native core.
func TestGoldenVectors(t *testing.T) {
	f, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range f.Murmur3 {
		if got := murmur3.SumString(m.Input); got != m.Hash {
			t.Errorf("murmur3(%q) = %d, want %d", m.Input, got, m.Hash)
		}
	}
	for _, b := range f.Buckets {
		if got := core.Bucket(b.Salt, b.Value); got != b.Bucket {
			t.Errorf("bucket(%q, %q) = %d, want %d", b.Salt, b.Value, got, b.Bucket)
		}
	}
	cases := 0
	for _, s := range f.Suites {
		t.Run(s.Name, func(t *testing.T) {
			ev, err := core.Load(s.Snapshot)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			checkProblems(t, ev.Snapshot().Problems, s.Problems)
			ctx := ev.NewContext()
			for i := range s.Cases {
				c := &s.Cases[i]
				cases++
				n, err := c.EvaluateNative(ev, ctx)
				if err != nil {
					t.Errorf("%s: %v", c.Name, err)
					continue
				}
				if diff := vectors.Check(c, n.JSON); diff != "" {
					t.Errorf("%s (flag %q): %s", c.Name, c.Flag, diff)
				}
			}
		})
	}
	if len(f.Suites) == 0 || cases == 0 {
		t.Fatal("vectors file has no cases")
	}
	t.Logf("%d murmur3, %d bucket, %d evaluation cases in %d suites", len(f.Murmur3), len(f.Buckets), cases, len(f.Suites))
}

func checkProblems(t *testing.T, got []model.Problem, want []string) {
	t.Helper()
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		switch {
		case i >= len(got):
			t.Errorf("missing problem %q", want[i])
		case i >= len(want):
			t.Errorf("unexpected problem %q", got[i].String())
		case got[i].String() != want[i]:
			t.Errorf("problem %d = %q, want %q", i, got[i].String(), want[i])
		}
	}
}
