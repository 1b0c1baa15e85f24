package wasmengine

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// The guest's answer to every kind of bad input through the ABI is an error code, never a trap
// (ABI.md, "Exports"). These tests call the exports directly, past the host's own checks, on
// both modules, and require the instance to stay usable and keep serving its snapshot.

// rawCall calls export fn with args and fails the test on a trap.
func rawCall(t *testing.T, in *Instance, fn int, args ...uint64) uint64 {
	t.Helper()
	var v uint64
	var ok bool
	switch len(args) {
	case 0:
		v, ok = in.call0(fn)
	case 1:
		v, ok = in.call1(fn, args[0])
	default:
		v, ok = in.call2(fn, args[0], args[1])
	}
	if !ok {
		t.Fatalf("%s%v trapped: %v", exports[fn].name, args, in.Err())
	}
	return v
}

// checkServes asserts that the instance still evaluates its snapshot exactly as the native
// core does.
func checkServes(t *testing.T, in *Instance, native *core.Evaluator) {
	t.Helper()
	if in.Broken() {
		t.Fatalf("instance broken: %v", in.Err())
	}
	var enc abi.Encoder
	ctx := native.NewContext()
	if err := in.SetContext(genContexts(ctx, &enc, in, "user-77")); err != nil {
		t.Fatalf("set-context after bad input: %v", err)
	}
	for i, want := range native.EvaluateAll(ctx, nil) {
		if got := in.Evaluate(int32(i)); got != want {
			t.Fatalf("after bad input, flag %d: wasm %s, native %s", i, describe(got), describe(want))
		}
	}
}

// TestBadIndexes calls every export that takes an index with indexes out of range: each
// answers its documented empty value (FLAG_NOT_FOUND, 0, ...).
func TestBadIndexes(t *testing.T) {
	data := genSnapshot(30, 8)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	notFound := uint64(core.Unpack(-1, packedNotFound).Pack())
	bad := []uint64{30, 31, 1 << 13, 1 << 31, math.MaxUint32}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		for _, i := range bad {
			if v := uint32(rawCall(t, in, fnEvaluate, i)); uint64(v) != notFound {
				t.Errorf("evaluate(%d) = %#x, want FLAG_NOT_FOUND %#x", i, v, notFound)
			}
			for _, kind := range []uint64{0, 1, 5, 6, math.MaxUint32} {
				if v := uint32(rawCall(t, in, fnEvaluateTyped, i, kind)); uint64(v) != notFound {
					t.Errorf("evaluate-typed(%d, %d) = %#x, want FLAG_NOT_FOUND", i, kind, v)
				}
			}
			for fn, name := range map[int]string{fnFlagKey: "flag-key", fnAttributeName: "attribute-name", fnProblem: "problem"} {
				if v := rawCall(t, in, fn, i); v != 0 {
					t.Errorf("%s(%d) = %#x, want 0", name, i, v)
				}
			}
			if v := rawCall(t, in, fnIsStatic, i); uint32(v) != 0 {
				t.Errorf("is-static(%d) = %d, want 0", i, v)
			}
			for _, j := range []uint64{0, bad[0], math.MaxUint32} {
				if v := rawCall(t, in, fnVariationJSON, i, j); v != 0 {
					t.Errorf("variation-json(%d, %d) = %#x, want 0", i, j, v)
				}
				if v := rawCall(t, in, fnRuleID, i, j); v != 0 {
					t.Errorf("rule-id(%d, %d) = %#x, want 0", i, j, v)
				}
			}
		}
		// In range flag, out of range variation, rule and kind.
		for _, j := range bad {
			if v := rawCall(t, in, fnVariationJSON, 0, j); v != 0 {
				t.Errorf("variation-json(0, %d) = %#x, want 0", j, v)
			}
			if v := rawCall(t, in, fnRuleID, 0, j); v != 0 {
				t.Errorf("rule-id(0, %d) = %#x, want 0", j, v)
			}
		}
		for _, kind := range []uint64{6, 99, math.MaxUint32} {
			for i := range uint64(30) {
				r := core.Unpack(int32(i), uint32(rawCall(t, in, fnEvaluateTyped, i, kind)))
				if f := &native.Snapshot().Flags[i]; !f.Rejected && (r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorTypeMismatch) {
					t.Errorf("evaluate-typed(%d, kind %d) = %s, want TYPE_MISMATCH", i, kind, describe(r))
				}
			}
		}
		checkServes(t, in, native)
	})
}

// TestBadLengths passes lengths beyond the buffer to every export that reads it, and asks for
// buffers beyond the guest's limit: error codes, and the snapshot and buffer stay usable.
func TestBadLengths(t *testing.T) {
	data := genSnapshot(30, 9)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		size := uint64(in.bufCap)
		for _, n := range []uint64{size + 1, 1 << 31, math.MaxUint32} {
			if v := int64(rawCall(t, in, fnLoad, n)); v != -1 {
				t.Errorf("load(%d) with a %d-byte buffer = %d, want -1", n, size, v)
			}
			if text := in.errorText(); text == "" || in.Broken() {
				t.Errorf("load(%d): error text %q", n, text)
			}
			if v := int32(uint32(rawCall(t, in, fnSetContext, n))); v != -1 {
				t.Errorf("set-context(%d) = %d, want -1", n, v)
			}
			if v := int32(uint32(rawCall(t, in, fnFlagIndex, n))); v != -1 {
				t.Errorf("flag-index(%d) = %d, want -1", n, v)
			}
		}
		if v := uint64(rawCall(t, in, fnFlagCount)); v != 30 || in.Version() != int64(native.Snapshot().Version) {
			t.Errorf("after bad lengths: %d flags, version %d", v, in.Version())
		}
		for _, n := range []uint64{1<<30 + 1, 1 << 31, math.MaxUint32} {
			if p := uint32(rawCall(t, in, fnBuffer, n)); p != 0 {
				t.Errorf("buffer(%d) = %#x, want 0 (over the 1 GiB limit)", n, p)
			}
		}
		// The buffer handed out before is still the guest's buffer: ask again at its size.
		in.bufOK = false
		checkServes(t, in, native)

		// Through the host: an input over the limit is a GuestError (Load and SetContext reserve
		// the buffer first, as here), not a broken instance.
		var ge *GuestError
		if err := in.reserve(1<<30 + 1); !errors.As(err, &ge) || ge.Op != "buffer" {
			t.Errorf("reserving 1 GiB + 1: %v, want a buffer GuestError", err)
		}
		checkServes(t, in, native)
	})
}

// TestTruncatedSnapshots loads every prefix of a snapshot (in steps) and other broken
// variants: each is refused with the native core's error text, and the instance keeps serving
// the snapshot it had.
func TestTruncatedSnapshots(t *testing.T) {
	data := genSnapshot(20, 10)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	var bad [][]byte
	for n := 0; n < len(data); n += 1 + n/7 {
		bad = append(bad, data[:n])
	}
	bad = append(bad, data[:len(data)-1], append(append([]byte{}, data...), '}'), append(append([]byte{}, data...), 0xff))
	flipped := append([]byte{}, data...)
	flipped[len(flipped)/2] = 0
	bad = append(bad, flipped)
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		refused := 0
		for _, b := range bad {
			_, nerr := core.Load(b)
			_, err := in.Load(b)
			if in.Broken() {
				t.Fatalf("%d-byte prefix broke the instance: %v", len(b), in.Err())
			}
			if nerr == nil {
				if err != nil {
					t.Errorf("%d bytes: native loads it, wasm says %v", len(b), err)
				}
				if _, err := in.Load(data); err != nil {
					t.Fatal(err)
				}
				continue
			}
			refused++
			var ge *GuestError
			if !errors.As(err, &ge) || ge.Text != nerr.Error() {
				t.Errorf("%d bytes: got %v, want the guest error %q", len(b), err, nerr.Error())
			}
		}
		if refused < len(bad)/2 {
			t.Errorf("only %d of %d broken snapshots refused", refused, len(bad))
		}
		checkServes(t, in, native)
	})
}

// TestGarbageContexts sends random bytes, and valid encodings with random bytes changed, as
// contexts: each is accepted or refused exactly as abi.Decoder decides, never a trap, and a
// valid context works afterwards.
func TestGarbageContexts(t *testing.T) {
	data := genSnapshot(30, 11)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(3))
	var inputs [][]byte
	for range 300 {
		b := make([]byte, r.Intn(80))
		r.Read(b)
		inputs = append(inputs, b)
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		var enc abi.Encoder
		valid := append([]byte(nil), genContexts(native.NewContext(), &enc, in, "user-5")...)
		cases := append([][]byte{}, inputs...)
		for range 300 {
			b := append([]byte(nil), valid...)
			for range 1 + r.Intn(3) {
				b[r.Intn(len(b))] = byte(r.Intn(256))
			}
			if r.Intn(2) == 0 {
				b = b[:r.Intn(len(b)+1)]
			}
			cases = append(cases, b)
		}
		accepted := 0
		for _, b := range cases {
			err := in.SetContext(b)
			var d abi.Decoder
			derr := d.Decode(b, native.NewContext(), len(in.Attributes()))
			var ge *GuestError
			switch {
			case in.Broken():
				t.Fatalf("context %x broke the instance: %v", b, in.Err())
			case derr == nil && err != nil:
				t.Errorf("context %x: the decoder accepts it, the guest says %v", b, err)
			case derr != nil && (!errors.As(err, &ge) || ge.Text != derr.Error()):
				t.Errorf("context %x: got %v, want %q", b, err, derr.Error())
			case derr == nil:
				accepted++
			}
			for i := range int32(30) { // evaluations after any context: no trap
				in.Evaluate(i)
			}
		}
		t.Logf("%d of %d garbage contexts were valid encodings", accepted, len(cases))
		checkServes(t, in, native)
	})
}

// TestMemoryLimitRefusesOversizedBuffer: with a memory cap, the host refuses an input larger
// than the cap before the guest tries (and traps on) the allocation.
func TestMemoryLimitRefusesOversizedBuffer(t *testing.T) {
	ctx := context.Background()
	forEachModule(t, func(t *testing.T, m *Module) {
		rt, err := NewRuntime(ctx, Config{CacheDir: shared.cacheDir, MemoryLimitPages: 512}) // 32 MiB
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close(ctx)
		capped, err := rt.Compile(ctx, readModule(t, m))
		if err != nil {
			t.Fatal(err)
		}
		data := genSnapshot(10, 1)
		native, _ := core.Load(data)
		in := loaded(t, capped, data)
		var ge *GuestError
		if _, err := in.Load(make([]byte, 40<<20)); !errors.As(err, &ge) || ge.Op != "buffer" {
			t.Fatalf("40 MiB input under a 32 MiB cap: %v, want a buffer GuestError", err)
		}
		t.Logf("%v", ge)
		checkServes(t, in, native)
	})
}

// TestHostileRegexes loads regexes at and past core/model's bounds (MaxRegexGroups,
// MaxRegexInsts) into both modules. Parsing and compiling a regex recurse, and the TinyGo
// module's stack is fixed: before the bounds and the flattening of counted repetitions,
// `[a-z]{1,300}` or 300 nested groups trapped the module while loading. Each pattern must load
// without a trap, be rejected or accepted exactly as natively, and match the same strings.
func TestHostileRegexes(t *testing.T) {
	patterns := []string{
		`[a-z]{1,500}`, `^[a-z]{1,500}$`, `(?:ab|c){1,200}`, `[a-z]{1,600}`, `(x{1,30}){1,30}`,
		strings.Repeat("(", 100) + "[a-z]{1,490}" + strings.Repeat(")", 100),
		strings.Repeat("(a{1,5}", 100) + strings.Repeat(")", 100),
		strings.Repeat("(?i:[a-z]{0,3}|", 100) + "x" + strings.Repeat(")", 100),
		strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300),
		strings.Repeat("(?:", 999) + "a" + strings.Repeat(")", 999),
		strings.Repeat("a|", 5000) + "b",
	}
	var flags []string
	for i, p := range patterns {
		flags = append(flags, `{"key":"f`+strconv.Itoa(i)+`","enabled":true,"variations":[false,true],`+
			`"rules":[{"clauses":[{"attribute":"a","op":"matches","values":[`+strconv.Quote(p)+`]}],"variation":1}],`+
			`"fallthrough":{"variation":0}}`)
	}
	data := []byte(`{"environment":"e","version":1,"flags":[` + strings.Join(flags, ",") + `]}`)
	native, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range native.Snapshot().Problems {
		problems = append(problems, p.String())
	}
	if rejected := len(problems); rejected < 4 || rejected == len(patterns) {
		t.Fatalf("%d of %d patterns rejected natively; the test wants some of each", rejected, len(patterns))
	}
	forEachModule(t, func(t *testing.T, m *Module) {
		in := loaded(t, m, data)
		if got := in.Problems(); !slices.Equal(got, problems) {
			t.Fatalf("problems:\n got %q\nwant %q", got, problems)
		}
		var enc abi.Encoder
		ctx := native.NewContext()
		for _, a := range []string{"", "a", strings.Repeat("a", 490), strings.Repeat("ab", 300) + "x", strings.Repeat("é", 600)} {
			ctx.Reset()
			ctx.SetTargetingKey("u")
			ctx.SetString("a", a)
			enc.Reset(0, 0)
			enc.String(0, "u")
			enc.String(uint32(in.AttributeID("a")), a)
			if err := in.SetContext(enc.Bytes()); err != nil {
				t.Fatal(err)
			}
			for i, want := range native.EvaluateAll(ctx, nil) {
				if got := in.Evaluate(int32(i)); got != want {
					t.Fatalf("flag %d (%.40q) on %.20q: wasm %s, native %s", i, patterns[i], a, describe(got), describe(want))
				}
			}
		}
	})
}
