package wasmengine

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// TestGoldenVectors runs core/testdata/vectors.json through each built module: every suite is
// loaded into one instance (so reloading is exercised too), its problems must equal the
// suite's, and every case — context encoded as a host encodes it, typed evaluation — must
// render byte-identically to the native core's AppendJSON and agree with the expectation.
func TestGoldenVectors(t *testing.T) {
	f, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		var enc abi.Encoder
		cases := 0
		for _, s := range f.Suites {
			t.Run(s.Name, func(t *testing.T) {
				if in.Broken() { // a trap in an earlier suite: go on with a fresh instance
					in = newInstance(t, m)
				}
				native, nerr := core.Load(s.Snapshot)
				version, err := in.Load(s.Snapshot)
				if nerr != nil {
					var ge *GuestError
					if !errors.As(err, &ge) || ge.Text != nerr.Error() {
						t.Fatalf("load: got %v, want the guest error %q", err, nerr.Error())
					}
					return
				}
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				snap := native.Snapshot()
				if uint64(version) != snap.Version {
					t.Errorf("version %d, want %d", version, snap.Version)
				}
				if got := in.Problems(); !slices.Equal(got, nonNil(s.Problems)) {
					t.Errorf("problems:\n got %q\nwant %q", got, s.Problems)
				}
				checkAccessors(t, in, native)

				ctx := native.NewContext()
				for i := range s.Cases {
					c := &s.Cases[i]
					cases++
					n, err := c.EvaluateNative(native, ctx)
					if err != nil {
						t.Errorf("%s: native: %v", c.Name, err)
						continue
					}
					encoded, err := encodeContextJSON(&enc, c.ContextJSON(), c.Now, c.Random, in.AttributeID)
					if err != nil {
						t.Errorf("%s: %v", c.Name, err)
						continue
					}
					if err := in.SetContext(encoded); err != nil {
						t.Errorf("%s: set context: %v", c.Name, err)
						continue
					}
					fi := in.FlagIndex(c.Flag)
					if want := int32(native.FlagIndex(c.Flag)); fi != want {
						t.Errorf("%s: FlagIndex(%q) = %d, want %d", c.Name, c.Flag, fi, want)
					}
					r := in.EvaluateTyped(fi, n.Type)
					got := appendResultJSON(nil, in, c.Flag, r, c.DefaultJSON())
					nr, want := n.Result, n.JSON
					if !bytes.Equal(got, want) {
						t.Errorf("%s (flag %q): wasm renders\n%s\nnative renders\n%s", c.Name, c.Flag, got, want)
					}
					if r != nr {
						t.Errorf("%s (flag %q): result %+v (reason %v, error %v), native %+v (reason %v, error %v)",
							c.Name, c.Flag, r, r.Reason(), r.ErrorCode(), nr, nr.Reason(), nr.ErrorCode())
					}
					if diff := vectors.Check(c, got); diff != "" {
						t.Errorf("%s (flag %q): %s", c.Name, c.Flag, diff)
					}
					if n.Type == core.TypeAny {
						if r2 := in.Evaluate(fi); r2 != r {
							t.Errorf("%s: Evaluate %+v, EvaluateTyped(any) %+v", c.Name, r2, r)
						}
					}
				}
				if in.Broken() {
					t.Errorf("instance broken: %v", in.Err())
				}
			})
		}
		if cases == 0 {
			t.Fatal("vectors file has no cases")
		}
		t.Logf("%d evaluation cases in %d suites", cases, len(f.Suites))
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkAccessors compares every per-flag accessor of the instance with the native snapshot.
func checkAccessors(t *testing.T, in *Instance, native *core.Evaluator) {
	t.Helper()
	snap := native.Snapshot()
	if in.FlagCount() != len(snap.Flags) {
		t.Errorf("FlagCount %d, want %d", in.FlagCount(), len(snap.Flags))
	}
	if !slices.Equal(in.Attributes(), snap.Attributes) {
		t.Errorf("Attributes %q, want %q", in.Attributes(), snap.Attributes)
	}
	for i := range snap.Flags {
		f := &snap.Flags[i]
		fi := int32(i)
		if k := in.FlagKey(fi); k != f.Key {
			t.Errorf("FlagKey(%d) = %q, want %q", i, k, f.Key)
		}
		if want := int32(native.FlagIndex(f.Key)); in.FlagIndex(f.Key) != want {
			t.Errorf("FlagIndex(%q) = %d, want %d", f.Key, in.FlagIndex(f.Key), want)
		}
		if in.IsStatic(fi) != f.Static {
			t.Errorf("IsStatic(%q) = %v, want %v", f.Key, in.IsStatic(fi), f.Static)
		}
		for v := range f.Variations {
			if got := in.VariationJSON(fi, int32(v)); got != f.Variations[v].JSON {
				t.Errorf("VariationJSON(%q, %d) = %q, want %q", f.Key, v, got, f.Variations[v].JSON)
			}
		}
		if got := in.VariationJSON(fi, int32(len(f.Variations))); got != "" {
			t.Errorf("VariationJSON(%q, out of range) = %q, want \"\"", f.Key, got)
		}
		for r := range f.Rules {
			if got := in.RuleID(fi, int32(r)); got != f.Rules[r].ID {
				t.Errorf("RuleID(%q, %d) = %q, want %q", f.Key, r, got, f.Rules[r].ID)
			}
		}
	}
	if k := in.FlagKey(int32(len(snap.Flags))); k != "" {
		t.Errorf("FlagKey(out of range) = %q", k)
	}
	if i := in.FlagIndex("no-such-flag-" + strings.Repeat("x", 10)); i != -1 {
		t.Errorf("FlagIndex(unknown) = %d, want -1", i)
	}
}
