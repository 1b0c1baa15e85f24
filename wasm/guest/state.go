package main

import (
	"unsafe"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// The guest state. One instance serves one caller at a time, so plain package variables do.
// Everything a returned (ptr, len) pair points into is reachable from here, so the garbage
// collector keeps it.
var (
	// ev is the loaded snapshot's evaluator; before the first successful load it is an
	// evaluator over an empty snapshot, so every export works and evaluate answers
	// FLAG_NOT_FOUND.
	ev = core.New(&model.Snapshot{})
	// ctx is the context of the next evaluations. Contexts belong to one snapshot, so load
	// makes a new one.
	ctx = ev.NewContext()
	// dec decodes set-context's encoding; it copies the bytes into its own arena, so the
	// host may overwrite the buffer as soon as set-context returns.
	dec abi.Decoder

	// in is the buffer `buffer` hands out; its backing array lives as long as the variable.
	in []byte
	// results is evaluate-all's array of packed results, flag-count long (cap ≥ 1, so it
	// always has an address).
	results = make([]uint32, 0, 1)
	// static holds, by flag index, the packed result of each static flag (model.Flag.Static:
	// the same for every context), computed at load, and 0 for the others (a packed result is
	// never 0: its variation field is variation+1, or its reason is not STATIC). evaluate and
	// evaluate-all answer static flags from it. Flag-count long, like results.
	static = make([]uint32, 0, 1)
	// errText holds the text of the last load or set-context error; problemText the text of
	// the last `problem` call.
	errText     []byte
	problemText []byte
)

// minBuffer is the smallest buffer handed out, so that small requests do not regrow it.
const minBuffer = 4096

// maxBuffer bounds `buffer`: a larger request returns 0 instead of trapping on a failed
// allocation. Snapshots are far smaller (1,000 flags are about 300 KB).
const maxBuffer = 1 << 30

// typeMismatch is the packed TYPE_MISMATCH result (ABI.md, "Result"; core.Result.Pack):
// the caller's default (variation 0), no rule, reason ERROR, error code TYPE_MISMATCH.
const typeMismatch = uint32(core.ReasonError)<<26 | uint32(core.ErrorTypeMismatch)<<29

// notFound is the packed FLAG_NOT_FOUND result: the caller's default, reason ERROR.
const notFound = uint32(core.ReasonError)<<26 | uint32(core.ErrorFlagNotFound)<<29

// input returns the first n bytes of the buffer, or false when n exceeds it.
func input(n uint32) ([]byte, bool) {
	if uint64(n) > uint64(len(in)) {
		return nil, false
	}
	return in[:n], true
}

// pack returns s as (ptr << 32 | len); 0 for the empty string. s must live in memory the
// guest keeps (the compiled snapshot or a package-level buffer).
func pack(s string) uint64 {
	if len(s) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.StringData(s))))<<32 | uint64(len(s))
}

// packBytes is pack for a package-level byte buffer.
func packBytes(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

// flag returns flag i of the loaded snapshot, or nil when i is out of range.
func flag(i uint32) *model.Flag {
	flags := ev.Snapshot().Flags
	if uint64(i) >= uint64(len(flags)) {
		return nil
	}
	return &flags[i]
}

// index converts a flag index from the host to core's int: indices beyond the flag count
// (including those that do not fit an int on wasm32) become -1, which core answers with
// FLAG_NOT_FOUND.
func index(i uint32) int {
	if uint64(i) >= uint64(len(ev.Snapshot().Flags)) {
		return -1
	}
	return int(i)
}

// setError records the text error-text returns.
func setError(msg string) { errText = append(errText[:0], msg...) }
