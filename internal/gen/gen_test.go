package gen_test

import (
	"bytes"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
)

func TestGenSnapshotLoads(t *testing.T) {
	for _, n := range []int{1000, 10000} {
		data := gen.Snapshot(n, 1)
		ev, err := core.Load(data)
		if err != nil {
			t.Fatalf("%d flags: load: %v", n, err)
		}
		s := ev.Snapshot()
		for _, p := range s.Problems {
			t.Errorf("%d flags: problem: %s", n, p)
		}
		if len(s.Flags) != n {
			t.Errorf("%d flags: loaded %d flags", n, len(s.Flags))
		}
		if want := max(3, n/50); len(s.Segments) != want {
			t.Errorf("%d flags: loaded %d segments, want %d", n, len(s.Segments), want)
		}

		// The mix is realistic: every ingredient shows up.
		var static, rules, rollouts, targets, segments, prereqs, disabled int
		for i := range s.Flags {
			f := &s.Flags[i]
			switch {
			case !f.Enabled:
				disabled++
			case f.Static:
				static++
			}
			if len(f.Rules) > 0 {
				rules++
			}
			if f.Fallthrough.Rollout != nil {
				rollouts++
			}
			for _, r := range f.Rules {
				if r.Rollout != nil {
					rollouts++
				}
				for _, c := range r.Clauses {
					if c.Op.IsSegmentOp() {
						segments++
					}
				}
			}
			if len(f.Targets) > 0 {
				targets++
			}
			if len(f.Prerequisites) > 0 {
				prereqs++
			}
		}
		t.Logf("%d flags (%d bytes): %d static, %d disabled, %d with rules, %d rollouts, %d with targets, %d segment clauses, %d with prerequisites",
			n, len(data), static, disabled, rules, rollouts, targets, segments, prereqs)
		for name, c := range map[string]int{"static": static, "disabled": disabled, "rules": rules, "rollouts": rollouts,
			"targets": targets, "segment clauses": segments, "prerequisites": prereqs} {
			if c < n/100 {
				t.Errorf("%d flags: only %d with %s", n, c, name)
			}
		}

		// Every flag evaluates without error for a typical context.
		ctx := gen.Context(ev, "user-42")
		for i, r := range ev.EvaluateAll(ctx, nil) {
			if r.Reason() == core.ReasonError {
				t.Errorf("%d flags: flag %q: %v %v", n, s.Flags[i].Key, r.Reason(), r.ErrorCode())
			}
		}
	}
}

func TestGenDeterministic(t *testing.T) {
	a, b := gen.Snapshot(500, 7), gen.Snapshot(500, 7)
	if !bytes.Equal(a, b) {
		t.Errorf("two snapshots of the same seed differ")
	}
	if bytes.Equal(a, gen.Snapshot(500, 8)) {
		t.Errorf("snapshots of different seeds are the same")
	}
}
