package wasmengine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// TestEvaluateAll checks, on a generated 1,000-flag snapshot and many users, that evaluate-all
// equals per-flag evaluate and the native core's EvaluateAll.
func TestEvaluateAll(t *testing.T) {
	data := genSnapshot(1000, 1)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if p := native.Snapshot().Problems; len(p) > 0 {
		t.Fatalf("generated snapshot has problems: %v", p)
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		if in.FlagCount() != 1000 {
			t.Fatalf("FlagCount %d", in.FlagCount())
		}
		ctx := native.NewContext()
		var enc abi.Encoder
		var all, nall []core.Result
		reasons := map[core.Reason]int{}
		for u := range 50 {
			encoded := genContexts(ctx, &enc, in, fmt.Sprintf("user-%d", u*7919))
			if u%5 == 0 { // some requests without attributes
				ctx.ClearAttributes()
				ctx.SetTargetingKey(fmt.Sprintf("user-%d", u*7919))
				enc.Reset(genNow, 0x9e3779b9)
				enc.String(0, fmt.Sprintf("user-%d", u*7919))
				encoded = enc.Bytes()
			}
			if err := in.SetContext(encoded); err != nil {
				t.Fatal(err)
			}
			all = in.EvaluateAll(all)
			nall = native.EvaluateAll(ctx, nall)
			if len(all) != 1000 {
				t.Fatalf("EvaluateAll returned %d results", len(all))
			}
			for i, r := range all {
				if one := in.Evaluate(int32(i)); one != r {
					t.Fatalf("user %d flag %d: EvaluateAll %+v, Evaluate %+v", u, i, r, one)
				}
				if r != nall[i] {
					t.Fatalf("user %d flag %d: wasm %+v (%v), native %+v (%v)", u, i, r, r.Reason(), nall[i], nall[i].Reason())
				}
				reasons[r.Reason()]++
			}
		}
		if len(reasons) < 5 {
			t.Errorf("the snapshot exercises too few paths: %v", reasons)
		}
		t.Logf("reasons over 50 requests: %v", reasons)
	})
}

// TestLoadGrowsAndReplaces loads a small, a large (10,000 flags) and a small snapshot again into
// one instance: the buffer grows, and state follows the latest snapshot.
func TestLoadGrowsAndReplaces(t *testing.T) {
	small, large := genSnapshot(10, 2), genSnapshot(10000, 3)
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		for _, data := range [][]byte{small, large, small} {
			native, err := core.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			v, err := in.Load(data)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(v) != native.Snapshot().Version || in.FlagCount() != len(native.Snapshot().Flags) {
				t.Fatalf("version %d flags %d, want %d and %d", v, in.FlagCount(), native.Snapshot().Version, len(native.Snapshot().Flags))
			}
			last := int32(in.FlagCount() - 1)
			if k := in.FlagKey(last); k != native.Snapshot().Flags[last].Key {
				t.Fatalf("last key %q", k)
			}
		}
	})
}

// TestZeroAllocs asserts no host allocation on the hot path once warmed up.
func TestZeroAllocs(t *testing.T) {
	data := genSnapshot(1000, 1)
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		native, _ := core.Load(data)
		var enc abi.Encoder
		encoded := genContexts(native.NewContext(), &enc, in, "user-4242")
		key := in.FlagKey(500)
		out := make([]core.Result, 0, in.FlagCount())
		var r core.Result
		ops := []struct {
			name string
			fn   func()
		}{
			{"SetContext", func() {
				if err := in.SetContext(encoded); err != nil {
					panic(err)
				}
			}},
			{"Evaluate", func() { r = in.Evaluate(500) }},
			{"EvaluateTyped", func() { r = in.EvaluateTyped(500, core.TypeJSON) }},
			{"EvaluateAll", func() { out = in.EvaluateAll(out) }},
			{"FlagIndex", func() { r.Flag = in.FlagIndex(key) }},
		}
		for _, op := range ops {
			op.fn() // warm up
			if n := testing.AllocsPerRun(1000, op.fn); n != 0 {
				t.Errorf("%s: %v host allocations per call, want 0", op.name, n)
			}
		}
		if in.Broken() {
			t.Fatal(in.Err())
		}
		_ = r
	})
}

// checkBroken asserts what a broken instance does: Broken, errors matching ErrBroken, error
// results from evaluations.
func checkBroken(t *testing.T, in *Instance) {
	t.Helper()
	if !in.Broken() || !errors.Is(in.Err(), ErrBroken) {
		t.Fatalf("Broken() = %v, Err() = %v; want broken", in.Broken(), in.Err())
	}
	if err := in.SetContext(make([]byte, abi.HeaderSize)); !errors.Is(err, ErrBroken) {
		t.Errorf("SetContext on a broken instance: %v", err)
	}
	if _, err := in.Load([]byte(`{}`)); !errors.Is(err, ErrBroken) {
		t.Errorf("Load on a broken instance: %v", err)
	}
	if in.FlagCount() > 0 {
		r := in.Evaluate(0)
		if r.Variation != -1 || r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorParse {
			t.Errorf("Evaluate on a broken instance: %+v %v %v", r, r.Reason(), r.ErrorCode())
		}
		r = in.EvaluateTyped(0, core.TypeBool)
		if r.Variation != -1 || r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorParse {
			t.Errorf("EvaluateTyped on a broken instance: %+v %v %v", r, r.Reason(), r.ErrorCode())
		}
		all := in.EvaluateAll(nil)
		if len(all) != in.FlagCount() || all[0].Reason() != core.ReasonError {
			t.Errorf("EvaluateAll on a broken instance: %d results", len(all))
		}
	}
	if i := in.FlagIndex("x"); i != -1 {
		t.Errorf("FlagIndex on a broken instance: %d", i)
	}
	if p := in.Problems(); p != nil {
		t.Errorf("Problems on a broken instance: %v", p)
	}
}

// TestTrapDiscards provokes traps and checks that the instance is then broken.
func TestTrapDiscards(t *testing.T) {
	ctx := context.Background()
	t.Run("stub-unreachable", func(t *testing.T) {
		// A module whose evaluate traps deterministically.
		mod, err := sharedRuntime(t).Compile(ctx, engineStub().set("evaluate", 0x00).bytes()) // unreachable
		if err != nil {
			t.Fatal(err)
		}
		in := newInstance(t, mod)
		if _, err := in.Load([]byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		r := in.Evaluate(0)
		if r.Flag != 0 || r.Variation != -1 || r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorParse {
			t.Errorf("trapping Evaluate: %+v %v %v", r, r.Reason(), r.ErrorCode())
		}
		var te *TrapError
		if !errors.As(in.Err(), &te) || te.Func != "evaluate" || !strings.Contains(te.Error(), "unreachable") {
			t.Errorf("Err() = %v, want a TrapError of evaluate naming unreachable", in.Err())
		}
		checkBroken(t, in)
	})

	forEachModule(t, func(t *testing.T, m *Module) {
		t.Run("memory-cap", func(t *testing.T) {
			// Cap linear memory a little above what a small snapshot and the text of a large one
			// need (else the host refuses the text), then load the large one: the guest runs out
			// of memory parsing it.
			large := genSnapshot(3000, 4)
			probe := loaded(t, m, genSnapshot(10, 1))
			pages := probe.mem.Size()/65536 + uint32(len(large))/65536 + 16
			rt, err := NewRuntime(ctx, Config{CacheDir: shared.cacheDir, MemoryLimitPages: pages})
			if err != nil {
				t.Fatal(err)
			}
			defer rt.Close(ctx)
			wasmBytes := readModule(t, m)
			capped, err := rt.Compile(ctx, wasmBytes)
			if err != nil {
				t.Fatal(err)
			}
			in := loaded(t, capped, genSnapshot(10, 1))
			_, err = in.Load(large)
			if err == nil {
				t.Fatalf("loading 3,000 flags within %d pages succeeded", pages)
			}
			t.Logf("load beyond the memory cap: %v", err)
			checkBroken(t, in)
		})
		t.Run("corrupted-memory", func(t *testing.T) {
			in := loaded(t, m, genSnapshot(50, 1))
			mem := in.mem
			junk := make([]byte, mem.Size())
			for i := range junk {
				junk[i] = 0xff
			}
			mem.Write(0, junk)
			for i := range int32(in.FlagCount()) {
				in.Evaluate(i)
				if in.Broken() {
					break
				}
			}
			if !in.Broken() {
				in.EvaluateAll(nil)
				in.Problems()
				in.FlagKey(0)
			}
			if !in.Broken() {
				t.Fatal("no call trapped on guest memory overwritten with 0xff")
			}
			t.Logf("trap on corrupted memory: %v", in.Err())
			checkBroken(t, in)
		})
		t.Run("close", func(t *testing.T) {
			in := loaded(t, m, genSnapshot(10, 1))
			if in.Broken() {
				t.Fatal("fresh instance broken")
			}
			if err := in.Close(); err != nil {
				t.Fatal(err)
			}
			checkBroken(t, in)
			if err := in.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	})
}

// readModule returns the bytes m was compiled from.
func readModule(tb testing.TB, m *Module) []byte {
	tb.Helper()
	data, err := os.ReadFile(shared.paths[m])
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestMalformedContext sends broken context encodings: each must fail with the guest's text
// naming the problem (the abi.Decoder's message), leave the context empty, and keep the
// instance usable.
func TestMalformedContext(t *testing.T) {
	snapshot := []byte(`{"schemaVersion": 1, "environment": "test", "version": 7, "flags": [
		{"key": "paying", "enabled": true, "variations": [false, true], "offVariation": 0,
		 "rules": [{"id": "plans", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": 1}],
		 "fallthrough": {"variation": 0}}]}`)
	var enc abi.Encoder
	valid := func() []byte {
		enc.Reset(0, 0)
		enc.String(0, "user-1")
		enc.String(1, "pro")
		return append([]byte(nil), enc.Bytes()...)
	}
	build := func(f func(e *abi.Encoder)) []byte {
		enc.Reset(0, 0)
		f(&enc)
		return append([]byte(nil), enc.Bytes()...)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 16-byte header"},
		{"short-header", []byte{1, 2, 3}, "shorter than the 16-byte header"},
		{"id-out-of-range", build(func(e *abi.Encoder) { e.String(99, "x") }), "attribute id 99 out of range"},
		{"targeting-key-number", build(func(e *abi.Encoder) { e.Number(0, 1) }), "targeting key"},
		{"truncated-string", func() []byte { b := valid(); return b[:len(b)-1] }(), "truncated string"},
		{"trailing-bytes", append(valid(), 0), "trailing bytes"},
		{"count-too-high", func() []byte { b := valid(); b[12] = 3; return b }(), "truncated entry"},
		{"unknown-type", func() []byte {
			b := build(func(e *abi.Encoder) { e.String(1, "pro") })
			b[abi.HeaderSize+4] = 9
			return b
		}(), "unknown value type 9"},
		{"bool-2", func() []byte {
			b := build(func(e *abi.Encoder) { e.Bool(1, true) })
			b[len(b)-1] = 2
			return b
		}(), "bool must be one byte"},
		{"list-too-long", func() []byte {
			b := build(func(e *abi.Encoder) { e.Strings(1, []string{"a"}) })
			b[abi.HeaderSize+5] = 0xff
			return b
		}(), "list longer than the encoding"},
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, snapshot)
		native, _ := core.Load(snapshot)
		if got := in.Attributes(); len(got) != 2 || got[0] != "targetingKey" || got[1] != "plan" {
			t.Fatalf("Attributes %q", got)
		}
		for _, c := range cases {
			if err := in.SetContext(valid()); err != nil {
				t.Fatal(err)
			}
			if r := in.Evaluate(0); r.Variation != 1 {
				t.Fatalf("valid context: %+v", r)
			}
			err := in.SetContext(c.data)
			var ge *GuestError
			if !errors.As(err, &ge) || ge.Op != "set-context" {
				t.Errorf("%s: got %v, want a set-context GuestError", c.name, err)
				continue
			}
			if !strings.Contains(ge.Text, c.want) {
				t.Errorf("%s: error %q does not say %q", c.name, ge.Text, c.want)
			}
			// The guest shares abi.Decoder: its text should be the decoder's.
			var d abi.Decoder
			if derr := d.Decode(c.data, native.NewContext(), 2); derr == nil || ge.Text != derr.Error() {
				t.Errorf("%s: guest says %q, abi.Decoder says %v", c.name, ge.Text, derr)
			}
			if in.Broken() {
				t.Fatalf("%s: instance broken by a malformed context: %v", c.name, in.Err())
			}
			// The context is empty now: the rule does not match.
			if r := in.Evaluate(0); r.Variation != 0 || r.Reason() != core.ReasonDefault {
				t.Errorf("%s: after a malformed context: variation %d reason %v, want 0 DEFAULT", c.name, r.Variation, r.Reason())
			}
		}
	})
}

// TestUnusableSnapshot loads snapshots unusable as a whole: the error carries the guest's
// text (the native core's message), and the instance stays usable.
func TestUnusableSnapshot(t *testing.T) {
	bad := []string{``, `not json`, `[1, 2]`, `{"flags": 3}`, `{"schemaVersion": 99, "flags": []}`}
	good := genSnapshot(20, 5)
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		for _, b := range bad {
			_, nerr := core.Load([]byte(b))
			_, err := in.Load([]byte(b))
			if nerr == nil {
				if err != nil {
					t.Errorf("%q: native loads it, wasm says %v", b, err)
				}
				continue
			}
			var ge *GuestError
			if !errors.As(err, &ge) || ge.Op != "load" {
				t.Errorf("%q: got %v, want a load GuestError", b, err)
				continue
			}
			if ge.Text != nerr.Error() {
				t.Errorf("%q: guest says %q, native %q", b, ge.Text, nerr.Error())
			}
			if in.Broken() {
				t.Fatalf("%q: instance broken: %v", b, in.Err())
			}
			if in.Version() != -1 {
				t.Errorf("%q: Version %d after a failed load", b, in.Version())
			}
		}
		v, err := in.Load(good)
		if err != nil || v != 1020 || in.FlagCount() != 20 {
			t.Fatalf("good snapshot after bad ones: version %d, %d flags, %v", v, in.FlagCount(), err)
		}
		// A failed load keeps the snapshot served: nothing half-applied.
		key := in.FlagKey(7)
		if _, err := in.Load([]byte(`{"flags": `)); err == nil {
			t.Fatal("truncated snapshot loaded")
		}
		if in.Version() != 1020 || in.FlagCount() != 20 || in.FlagKey(7) != key || in.FlagIndex(key) != 7 {
			t.Errorf("after a failed load: version %d, %d flags, key %q", in.Version(), in.FlagCount(), in.FlagKey(7))
		}
		if r := in.Evaluate(7); r.Reason() == core.ReasonError {
			t.Errorf("after a failed load: %+v %v", r, r.ErrorCode())
		}
	})
}

// TestUnknownFlag checks out-of-range indices: FLAG_NOT_FOUND like the native core, no call.
func TestUnknownFlag(t *testing.T) {
	forEachModule(t, func(t *testing.T, m *Module) {
		in := newInstance(t, m)
		native, _ := core.Load([]byte(`{"schemaVersion": 1, "environment": "e", "version": 1, "flags": []}`))
		want := native.EvaluateTyped(-1, native.NewContext(), core.TypeBool)
		for _, i := range []int32{-1, 0, 5, 1 << 30} {
			if r := in.Evaluate(i); r != want {
				t.Errorf("Evaluate(%d) before load: %+v, want %+v", i, r, want)
			}
		}
		in2 := loaded(t, m, genSnapshot(3, 1))
		for _, i := range []int32{-1, 3, -1 << 31} {
			if r := in2.EvaluateTyped(i, core.TypeBool); r != want {
				t.Errorf("EvaluateTyped(%d): %+v, want %+v", i, r, want)
			}
			if in2.VariationJSON(i, 0) != "" || in2.RuleID(i, 0) != "" || in2.IsStatic(i) || in2.FlagKey(i) != "" {
				t.Errorf("accessors of flag %d not empty", i)
			}
		}
		if in2.FlagIndex("") != -1 {
			t.Error(`FlagIndex("") != -1`)
		}
	})
}

// TestCompileChecksExports feeds Compile and Instantiate stub modules that break the contract.
func TestCompileChecksExports(t *testing.T) {
	ctx := context.Background()
	rt := sharedRuntime(t)
	cases := []struct {
		name string
		mod  *stubModule
		want string // "" compiles
	}{
		{"complete", engineStub(), ""},
		{"missing-evaluate", engineStub().without("evaluate"), `missing export "vexil:engine/evaluator@0.1.0#evaluate" (i32) -> (i32)`},
		{"missing-two", engineStub().without("rule-id").without("error-text"), `missing export "vexil:engine/evaluator@0.1.0#rule-id"`},
		{"wrong-params", engineStub().retype("evaluate", []api.ValueType{api.ValueTypeI64}, []api.ValueType{api.ValueTypeI32}),
			`export "vexil:engine/evaluator@0.1.0#evaluate" has signature (i64) -> (i32), want (i32) -> (i32)`},
		{"wrong-result", engineStub().retype("load", []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}),
			`export "vexil:engine/evaluator@0.1.0#load" has signature (i32) -> (i32), want (i32) -> (i64)`},
		{"no-memory", func() *stubModule { s := engineStub(); s.memory = false; return s }(), `does not export its linear memory`},
		{"foreign-import", func() *stubModule { s := engineStub(); s.imports = []string{"env.now"}; return s }(), "env.now"},
	}
	for _, c := range cases {
		m, err := rt.Compile(ctx, c.mod.bytes())
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && err == nil:
			t.Errorf("%s: compiled, want an error saying %q", c.name, c.want)
		case c.want != "" && !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %q does not say %q", c.name, err, c.want)
		}
		if m != nil {
			_ = m.Close(ctx)
		}
	}

	// A module of another ABI version compiles but does not instantiate.
	m, err := rt.Compile(ctx, engineStub().set("abi-version", 0x41, 0x02).bytes())
	if err != nil {
		t.Fatal(err)
	}
	if in, err := m.Instantiate(ctx); err == nil || !strings.Contains(err.Error(), "ABI version 2") {
		t.Errorf("instantiate an ABI 2 module: %v", err)
		if in != nil {
			in.Close()
		}
	}
	// A guest that cannot provide a buffer (it answers 0) refuses the input; no trap.
	m, err = rt.Compile(ctx, engineStub().set("buffer", 0x41, 0x00).bytes())
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(t, m)
	var ge *GuestError
	if _, err := in.Load([]byte(`{}`)); !errors.As(err, &ge) || ge.Op != "buffer" || in.Broken() {
		t.Errorf("load with buffer refused: %v (broken %v)", err, in.Broken())
	}
	if err := in.SetContext(make([]byte, abi.HeaderSize)); !errors.As(err, &ge) || ge.Op != "buffer" {
		t.Errorf("set-context with buffer refused: %v", err)
	}

	// Instances of one module are independent (unique names).
	m, err = rt.Compile(ctx, engineStub().bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, b := newInstance(t, m), newInstance(t, m)
	if a.mod.Name() == b.mod.Name() {
		t.Errorf("two instances named %q", a.mod.Name())
	}
}
