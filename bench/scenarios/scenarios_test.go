package scenarios

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/vexil-flags/vexil/core"
)

// TestNative runs the whole matrix on the native core: every scenario loads without problems
// and gives its expected answer. The pinned evaluate-all answer is printed on failure so an
// intended change (to internal/gen or to the semantics) can be copied into scenarios.go.
func TestNative(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range All() {
		if names[sc.Name] {
			t.Fatalf("scenario name %q twice", sc.Name)
		}
		names[sc.Name] = true
		t.Run(sc.Name, func(t *testing.T) {
			ev, err := core.Load(sc.Snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if p := ev.Snapshot().Problems; len(p) > 0 {
				t.Fatalf("problems: %v", p)
			}
			ctx := ev.NewContext()
			sc.Context(ctx)
			switch sc.Kind {
			case KindEvaluate:
				i := ev.FlagIndex(sc.Flag)
				if i < 0 {
					t.Fatalf("flag %q not found", sc.Flag)
				}
				r := ev.Evaluate(i, ctx)
				if msg := sc.CheckResult(r, ev.Value(r, "null")); msg != "" {
					t.Fatal(msg)
				}
			case KindEvaluateAll:
				out := ev.EvaluateAll(ctx, nil)
				if msg := sc.CheckAll(out); msg != "" {
					t.Errorf("%s\npinned values now: digest %q reasons %v", msg, Digest(out), reasonCounts(out))
				}
				if len(sc.Want.Reasons) < 4 {
					t.Errorf("the generated snapshot exercises too few paths: %v", sc.Want.Reasons)
				}
			case KindLoad:
				if n := len(ev.Snapshot().Flags); n != sc.Want.Flags {
					t.Fatalf("%d flags, want %d", n, sc.Want.Flags)
				}
			default:
				t.Fatalf("unknown kind %q", sc.Kind)
			}
		})
	}
}

func reasonCounts(rs []core.Result) map[core.Reason]int {
	m := map[core.Reason]int{}
	for _, r := range rs {
		m[r.Reason()]++
	}
	return m
}

// TestSplitExpectations checks the independently written bucketing against core's over many
// keys, so the expected answers of the rollout scenarios are the engine's published spec.
func TestSplitExpectations(t *testing.T) {
	split := []Weight{{0, 50000}, {1, 30000}, {2, 20000}}
	counts := make([]int, 3)
	for i := range 10000 {
		key := "user-" + strconv.Itoa(i)
		v := rolloutVariation("split", key, split)
		b, end, want := core.Bucket("split", key), uint32(0), int32(2)
		for _, w := range split {
			if end += uint32(w.Weight); b < end {
				want = int32(w.Variation)
				break
			}
		}
		if v != want {
			t.Fatalf("%s: %d, core's bucket says %d", key, v, want)
		}
		counts[v]++
	}
	for i, w := range split {
		if got, exp := counts[i], w.Weight/10; got < exp*9/10 || got > exp*11/10 {
			t.Errorf("variation %d: %d of 10,000, want about %d", i, got, exp)
		}
	}
}

// TestExport reads the exported JSON back as a runner in another language would and evaluates
// every scenario from it alone with the native core: the export carries everything a runner
// needs, and its answers are right.
func TestExport(t *testing.T) {
	data, err := Export()
	if err != nil {
		t.Fatal(err)
	}
	var ex Exported
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Version != ExportVersion || len(ex.Scenarios) != len(All()) {
		t.Fatalf("version %d, %d scenarios", ex.Version, len(ex.Scenarios))
	}
	for _, e := range ex.Scenarios {
		ev, err := core.Load(e.Snapshot)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		ctx := ev.NewContext()
		if e.Context != nil {
			c, _ := json.Marshal(e.Context)
			if err := ctx.SetJSON(c); err != nil {
				t.Fatalf("%s: %v", e.Name, err)
			}
		}
		ctx.Now, ctx.Random = e.Now, e.Random
		switch e.Kind {
		case KindEvaluate:
			r := ev.EvaluateKey(e.Flag, ctx)
			if e.Want.Variation == nil || r.Variation != *e.Want.Variation || r.Reason().String() != e.Want.Reason ||
				ev.Value(r, "null") != string(e.Want.Value) {
				t.Errorf("%s: got %d %v %s, want %v %s %s", e.Name, r.Variation, r.Reason(), ev.Value(r, "null"),
					e.Want.Variation, e.Want.Reason, e.Want.Value)
			}
		case KindEvaluateAll:
			out := ev.EvaluateAll(ctx, nil)
			if len(out) != e.Want.Flags || len(e.Want.Packed) != e.Want.Flags || Digest(out) != e.Want.Digest {
				t.Fatalf("%s: %d results, digest %s; want %d, %s", e.Name, len(out), Digest(out), e.Want.Flags, e.Want.Digest)
			}
			for i, r := range out {
				if r.Pack() != e.Want.Packed[i] {
					t.Fatalf("%s: flag %d packed %#x, want %#x", e.Name, i, r.Pack(), e.Want.Packed[i])
				}
			}
		case KindLoad:
			if n := len(ev.Snapshot().Flags); n != e.Want.Flags {
				t.Errorf("%s: %d flags, want %d", e.Name, n, e.Want.Flags)
			}
		default:
			t.Errorf("%s: kind %q", e.Name, e.Kind)
		}
	}
}
