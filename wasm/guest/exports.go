package main

import (
	"unsafe"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// One function per function of interface evaluator in ../wit/engine.wit, exported under its
// Canonical-ABI name with the core signature the lowering gives (u32 → i32 as uint32,
// s32 → int32, s64 → int64, u64 → uint64). The WIT doc comments are the spec; ABI.md has the
// details.

//go:wasmexport vexil:engine/evaluator@0.1.0#abi-version
func abiVersion() uint32 { return abi.Version }

//go:wasmexport vexil:engine/evaluator@0.1.0#buffer
func buffer(size uint32) uint32 {
	if size > maxBuffer {
		return 0
	}
	if int(size) > len(in) {
		n := max(int(size), 2*len(in), minBuffer)
		if n > maxBuffer {
			n = int(size)
		}
		in = make([]byte, n)
	} else if len(in) == 0 {
		in = make([]byte, minBuffer)
	}
	return uint32(uintptr(unsafe.Pointer(&in[0])))
}

//go:wasmexport vexil:engine/evaluator@0.1.0#load
func load(n uint32) int64 {
	data, ok := input(n)
	if !ok {
		setError("load: length exceeds the buffer")
		return -1
	}
	// core.Load copies what it keeps (model.Parse reads a string copy of data), so the
	// buffer may be reused at once and the snapshot's strings live in the snapshot.
	done := beforeLoad()
	e, err := core.Load(data)
	done()
	if err != nil {
		// The previous snapshot, its context and every pointer into it stay valid.
		setError(err.Error())
		return -1
	}
	ev, ctx = e, e.NewContext()
	nf := len(e.Snapshot().Flags)
	if cap(results) < nf {
		results = make([]uint32, nf)
	}
	if cap(static) < nf {
		static = make([]uint32, nf)
	}
	results, static = results[:nf], static[:nf]
	for i := range static {
		static[i] = 0
		if e.Snapshot().Flags[i].Static {
			// A static flag ignores the context: the new, empty one does.
			static[i] = e.Evaluate(i, ctx).Pack()
		}
	}
	errText = errText[:0]
	problemText = problemText[:0]
	return int64(e.Snapshot().Version)
}

//go:wasmexport vexil:engine/evaluator@0.1.0#flag-count
func flagCount() uint32 { return uint32(len(ev.Snapshot().Flags)) }

//go:wasmexport vexil:engine/evaluator@0.1.0#flag-index
func flagIndex(n uint32) int32 {
	data, ok := input(n)
	if !ok {
		return -1
	}
	if n == 0 {
		return int32(ev.FlagIndex(""))
	}
	// A view of the buffer, not a copy: the map lookup does not keep it.
	return int32(ev.FlagIndex(unsafe.String(&data[0], len(data))))
}

//go:wasmexport vexil:engine/evaluator@0.1.0#flag-key
func flagKey(i uint32) uint64 {
	f := flag(i)
	if f == nil {
		return 0
	}
	return pack(f.Key)
}

//go:wasmexport vexil:engine/evaluator@0.1.0#attribute-count
func attributeCount() uint32 { return uint32(len(ev.Snapshot().Attributes)) }

//go:wasmexport vexil:engine/evaluator@0.1.0#attribute-name
func attributeName(id uint32) uint64 {
	attrs := ev.Snapshot().Attributes
	if uint64(id) >= uint64(len(attrs)) {
		return 0
	}
	return pack(attrs[id])
}

//go:wasmexport vexil:engine/evaluator@0.1.0#set-context
func setContext(n uint32) int32 {
	data, ok := input(n)
	if !ok {
		ctx.ClearAttributes()
		setError("set-context: length exceeds the buffer")
		return -1
	}
	if err := dec.Decode(data, ctx, len(ev.Snapshot().Attributes)); err != nil {
		setError(err.Error())
		return -1
	}
	errText = errText[:0]
	return 0
}

//go:wasmexport vexil:engine/evaluator@0.1.0#evaluate
func evaluate(i uint32) uint32 {
	st := static
	if i >= uint32(len(st)) {
		return notFound
	}
	if p := st[i]; p != 0 {
		return p
	}
	return ev.Evaluate(int(i), ctx).Pack()
}

//go:wasmexport vexil:engine/evaluator@0.1.0#evaluate-typed
func evaluateTyped(i uint32, kind uint32) uint32 {
	if kind > uint32(core.TypeJSON) {
		// An unknown kind never serves a value unchecked. Unknown and rejected flags keep
		// their own errors, as they do for known kinds.
		if f := flag(i); f != nil && !f.Rejected {
			return typeMismatch
		}
		return ev.Evaluate(index(i), ctx).Pack()
	}
	return ev.EvaluateTyped(index(i), ctx, core.Type(kind)).Pack()
}

//go:wasmexport vexil:engine/evaluator@0.1.0#evaluate-all
func evaluateAll() uint32 {
	e, c, out, st := ev, ctx, results, static
	for i := range out {
		if p := st[i]; p != 0 {
			out[i] = p
		} else {
			out[i] = e.Evaluate(i, c).Pack()
		}
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(results))))
}

//go:wasmexport vexil:engine/evaluator@0.1.0#variation-json
func variationJSON(i uint32, variation uint32) uint64 {
	f := flag(i)
	if f == nil || uint64(variation) >= uint64(len(f.Variations)) {
		return 0
	}
	return pack(f.Variations[variation].JSON)
}

//go:wasmexport vexil:engine/evaluator@0.1.0#rule-id
func ruleID(i uint32, rule uint32) uint64 {
	f := flag(i)
	if f == nil || uint64(rule) >= uint64(len(f.Rules)) {
		return 0
	}
	return pack(f.Rules[rule].ID)
}

//go:wasmexport vexil:engine/evaluator@0.1.0#is-static
func isStatic(i uint32) uint32 {
	if f := flag(i); f != nil && f.Static {
		return 1
	}
	return 0
}

//go:wasmexport vexil:engine/evaluator@0.1.0#problem-count
func problemCount() uint32 { return uint32(len(ev.Snapshot().Problems)) }

//go:wasmexport vexil:engine/evaluator@0.1.0#problem
func problem(i uint32) uint64 {
	problems := ev.Snapshot().Problems
	if uint64(i) >= uint64(len(problems)) {
		return 0
	}
	problemText = append(problemText[:0], problems[i].String()...)
	return packBytes(problemText)
}

//go:wasmexport vexil:engine/evaluator@0.1.0#error-text
func errorText() uint64 { return packBytes(errText) }
