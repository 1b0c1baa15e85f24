package wasmengine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// ErrBroken is matched (errors.Is) by every error of an instance that trapped or was closed.
var ErrBroken = errors.New("wasmengine: instance is broken")

// ErrClosed is the error of calls on a closed instance; it matches ErrBroken too.
var ErrClosed = fmt.Errorf("%w: closed", ErrBroken)

// TrapError is a guest call that failed: a trap (unreachable, out-of-bounds access, out of
// memory, a panic in the guest), a WASI exit, or a guest reply outside the contract. The
// instance is broken from then on; errors.Is(err, ErrBroken) holds.
type TrapError struct {
	Func   string // WIT function name
	Err    error  // wazero's error
	Output string // the first and last bytes the guest wrote to stdout/stderr, if any
}

func (e *TrapError) Error() string {
	s := "wasmengine: guest call " + e.Func + " failed, instance discarded: " + e.Err.Error()
	if e.Output != "" {
		s += " (guest output: " + strconv.Quote(e.Output) + ")"
	}
	return s
}

// Unwrap matches ErrBroken and wazero's error.
func (e *TrapError) Unwrap() []error { return []error{ErrBroken, e.Err} }

// GuestError is an input the guest refused, with the text of its error-text function: an
// unusable snapshot (Load) or a malformed context encoding (SetContext); or an input larger
// than the guest can buffer. The instance stays usable.
type GuestError struct {
	Op   string // "load", "set-context" or "buffer"
	Text string
}

func (e *GuestError) Error() string { return "wasmengine: " + e.Op + ": " + e.Text }

// Instance is one instantiated engine: its own linear memory, snapshot and context.
//
// An Instance is not safe for concurrent use: one caller at a time (a pool hands instances out).
// Strings it returns are copies, safe to keep. After a trap it is broken (see Broken): calls
// that return an error return one matching ErrBroken, evaluations return the error result
// described at Evaluate, and the owner should Close it and instantiate a new one.
type Instance struct {
	mod    api.Module
	mem    api.Memory
	fns    [numFns]api.Function
	stack  [2]uint64 // reused by every CallWithStack: no host allocation per call
	ctx    context.Context
	output *tailWriter

	// The guest buffer as the last `buffer` call returned it; valid until the next call.
	bufPtr, bufCap uint32
	bufOK          bool
	memLimit       uint64 // Config.MemoryLimitPages in bytes; 0 without a cap

	version   int64
	flagCount int32
	// static holds, by flag index, the packed result of each static flag (is-static: the same
	// for every context), read once per Load, and 0 for the others. Evaluate answers static
	// flags from it without entering the guest, as the WIT contract allows.
	static  []uint32
	attrs   []string         // names by id, read after each Load
	attrIDs map[string]int32 // the inverse of attrs

	err error // non-nil once broken or closed
}

// Instantiate makes a new instance: no start functions run, `_initialize` is called when the
// module exports it, and the module's ABI version must equal abi.Version. WASI is instantiated
// in the runtime first when the module imports it.
//
// ctx is used for instantiation only; later calls run with context.Background(), so an
// instance outlives the request that built it.
func (m *Module) Instantiate(ctx context.Context) (*Instance, error) {
	if m.wasi {
		if err := m.r.ensureWASI(ctx); err != nil {
			return nil, err
		}
	}
	name := "vexil-engine-" + strconv.FormatUint(m.r.names.Add(1), 10)
	out := &tailWriter{}
	cfg := wazero.NewModuleConfig().WithName(name).WithStartFunctions().WithStdout(out).WithStderr(out)
	mod, err := m.r.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("wasmengine: instantiate: %w", err)
	}
	in := &Instance{mod: mod, mem: mod.Memory(), ctx: context.Background(), output: out, version: -1, memLimit: m.r.memLimit}
	for i, e := range exports {
		in.fns[i] = mod.ExportedFunction(ExportPrefix + e.name)
	}
	if in.mem == nil {
		_ = mod.Close(ctx)
		return nil, errors.New("wasmengine: instance has no memory")
	}
	if m.init {
		if err := mod.ExportedFunction("_initialize").CallWithStack(ctx, in.stack[:]); err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("wasmengine: _initialize: %w%s", err, out.suffix())
		}
	}
	v, ok := in.call0(fnABIVersion)
	if !ok {
		err := in.err
		_ = mod.Close(ctx)
		return nil, err
	}
	if uint32(v) != abi.Version {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("wasmengine: module implements ABI version %d, this host ABI version %d", uint32(v), abi.Version)
	}
	return in, nil
}

// Broken reports whether the instance trapped or was closed; a broken instance must be
// discarded.
func (in *Instance) Broken() bool { return in.err != nil }

// Err returns why the instance is broken (matching ErrBroken), or nil.
func (in *Instance) Err() error { return in.err }

// Close releases the instance; it is broken afterwards. Closing twice is harmless.
func (in *Instance) Close() error {
	if in.err == nil {
		in.err = ErrClosed
	}
	return in.mod.Close(context.Background())
}

// Load replaces the instance's snapshot with the snapshot JSON and returns its version.
// A snapshot unusable as a whole yields a *GuestError with the guest's explanation, and the
// instance keeps serving its previous snapshot (Version, FlagCount and Attributes reflect
// what the guest holds); single rejected flags do not fail the load (see Problems). After a
// successful load, flag indices and attribute ids are those of the new snapshot, and the
// context must be set again.
func (in *Instance) Load(snapshot []byte) (version int64, err error) {
	if in.err != nil {
		return -1, in.err
	}
	if err := in.writeBuffer(snapshot); err != nil {
		return -1, err
	}
	v, ok := in.call1(fnLoad, uint64(len(snapshot)))
	if !ok {
		return -1, in.err
	}
	if !in.refresh() {
		return -1, in.err
	}
	if int64(v) < 0 {
		// The guest keeps the previous snapshot (if any); refresh mirrored its state.
		return -1, &GuestError{Op: "load", Text: in.errorText()}
	}
	if !in.readStatic() {
		return -1, in.err
	}
	in.version = int64(v)
	return in.version, nil
}

// readStatic fills in.static for the snapshot just loaded: is-static for every flag, and the
// results of evaluate-all with the guest's fresh context for the static ones.
func (in *Instance) readStatic() bool {
	n := uint32(in.flagCount)
	if uint32(cap(in.static)) < n {
		in.static = make([]uint32, n)
	}
	in.static = in.static[:n]
	var view []byte
	for i := range n {
		in.static[i] = 0
		s, ok := in.call1(fnIsStatic, uint64(i))
		if !ok {
			return false
		}
		if uint32(s) != 1 {
			continue
		}
		if view == nil {
			ptr, ok := in.call0(fnEvaluateAll)
			if !ok {
				return false
			}
			if view, ok = in.mem.Read(uint32(ptr), 4*n); !ok {
				in.contractError(fnEvaluateAll, "results array outside guest memory")
				return false
			}
		}
		in.static[i] = binary.LittleEndian.Uint32(view[4*i:])
	}
	return true
}

// refresh reads the flag count and the attribute names of the loaded snapshot.
func (in *Instance) refresh() bool {
	n, ok := in.call0(fnFlagCount)
	if !ok {
		return false
	}
	in.flagCount = int32(min(uint32(n), math.MaxInt32))
	na, ok := in.call0(fnAttributeCount)
	if !ok {
		return false
	}
	in.attrs = make([]string, 0, uint32(na))
	in.attrIDs = make(map[string]int32, uint32(na))
	for id := uint32(0); id < uint32(na); id++ {
		p, ok := in.call1(fnAttributeName, uint64(id))
		if !ok {
			return false
		}
		name, ok := in.readPacked(fnAttributeName, p)
		if !ok {
			return false
		}
		in.attrs = append(in.attrs, name)
		in.attrIDs[name] = int32(id)
	}
	return true
}

// Version is the version of the snapshot served, -1 before the first successful Load.
func (in *Instance) Version() int64 { return in.version }

// Problems returns the validation problems of the loaded snapshot as "path: message" texts.
func (in *Instance) Problems() []string {
	n, ok := in.call0(fnProblemCount)
	if !ok {
		return nil
	}
	list := make([]string, 0, uint32(n))
	for i := uint32(0); i < uint32(n); i++ {
		p, ok := in.call1(fnProblem, uint64(i))
		if !ok {
			return nil
		}
		s, ok := in.readPacked(fnProblem, p)
		if !ok {
			return nil
		}
		list = append(list, s)
	}
	return list
}

// FlagCount is the number of flags of the loaded snapshot, rejected ones included; flag
// indices run from 0 to FlagCount()-1.
func (in *Instance) FlagCount() int { return int(in.flagCount) }

// FlagIndex resolves a flag key to its index, -1 when the snapshot has no such flag (or the
// instance is broken). Hosts resolve keys once per snapshot.
func (in *Instance) FlagIndex(key string) int32 {
	if in.err != nil || in.writeBufferString(key) != nil {
		return -1
	}
	v, ok := in.call1(fnFlagIndex, uint64(len(key)))
	if !ok {
		return -1
	}
	return int32(uint32(v))
}

// FlagKey returns the key of flag i, "" when out of range.
func (in *Instance) FlagKey(i int32) string {
	if i < 0 || i >= in.flagCount {
		return ""
	}
	p, ok := in.call1(fnFlagKey, uint64(i))
	if !ok {
		return ""
	}
	s, _ := in.readPacked(fnFlagKey, p)
	return s
}

// Attributes returns the attribute names of the loaded snapshot by id (id 0 is
// "targetingKey"); a context encoding refers to attributes by these ids. The slice is shared
// until the next Load: do not modify it.
func (in *Instance) Attributes() []string { return in.attrs }

// AttributeID returns the id of an attribute name, -1 when no flag of the snapshot uses it
// (then a context may drop it).
func (in *Instance) AttributeID(name string) int32 {
	if id, ok := in.attrIDs[name]; ok {
		return id
	}
	return -1
}

// SetContext sets the context of the next evaluations from its binary encoding (abi.Encoder).
// A malformed encoding yields a *GuestError naming the problem; the context is then empty.
// It makes no host allocation once the guest buffer is large enough.
func (in *Instance) SetContext(encoded []byte) error {
	if in.err != nil {
		return in.err
	}
	if err := in.writeBuffer(encoded); err != nil {
		return err
	}
	v, ok := in.call1(fnSetContext, uint64(len(encoded)))
	if !ok {
		return in.err
	}
	if int32(uint32(v)) != 0 {
		return &GuestError{Op: "set-context", Text: in.errorText()}
	}
	return nil
}

const (
	packedNotFound = uint32(core.ReasonError)<<26 | uint32(core.ErrorFlagNotFound)<<29
	packedBroken   = uint32(core.ReasonError)<<26 | uint32(core.ErrorParse)<<29
)

var notFound = core.Unpack(-1, packedNotFound)

// Evaluate evaluates flag i (an index from FlagIndex) for the current context. An index out of
// range yields FLAG_NOT_FOUND with Flag -1, as the native core does.
//
// On a broken instance (and when this very call traps) it returns the caller's default with
// reason ERROR and error code PARSE_ERROR: core has no general error code, and the ABI's
// two-bit error field cannot carry a new one. Check Broken to tell the two apart from a
// rejected flag.
func (in *Instance) Evaluate(i int32) core.Result {
	if uint32(i) >= uint32(len(in.static)) {
		return notFound
	}
	if p := in.static[i]; p != 0 && in.err == nil {
		return core.Unpack(i, p)
	}
	v, ok := in.call1(fnEvaluate, uint64(i))
	if !ok {
		return core.Unpack(i, packedBroken)
	}
	return core.Unpack(i, uint32(v))
}

// EvaluateTyped is Evaluate for a typed getter: a flag whose variations are not of type t, or an
// integer check of a value with a fraction, yields TYPE_MISMATCH.
func (in *Instance) EvaluateTyped(i int32, t core.Type) core.Result {
	if t == core.TypeAny {
		return in.Evaluate(i) // no check: static flags need no guest call
	}
	if uint32(i) >= uint32(in.flagCount) {
		return notFound
	}
	v, ok := in.call2(fnEvaluateTyped, uint64(i), uint64(t))
	if !ok {
		return core.Unpack(i, packedBroken)
	}
	return core.Unpack(i, uint32(v))
}

// EvaluateAll evaluates every flag in index order, appending to out[:0]; pass the previous
// slice back to evaluate without allocating. On a broken instance every result is the error
// result of Evaluate.
func (in *Instance) EvaluateAll(out []core.Result) []core.Result {
	out = out[:0]
	n := uint32(in.flagCount)
	var view []byte
	if ptr, ok := in.call0(fnEvaluateAll); ok {
		if view, ok = in.mem.Read(uint32(ptr), 4*n); !ok {
			in.contractError(fnEvaluateAll, "results array outside guest memory")
		}
	}
	if in.err != nil {
		for i := int32(0); i < int32(n); i++ {
			out = append(out, core.Unpack(i, packedBroken))
		}
		return out
	}
	for i := uint32(0); i < n; i++ {
		out = append(out, core.Unpack(int32(i), binary.LittleEndian.Uint32(view[4*i:])))
	}
	return out
}

// VariationJSON returns the JSON of variation v of flag i, "" when out of range. The value a
// result serves is VariationJSON(r.Flag, r.Variation) when r.Variation ≥ 0, else the caller's
// default.
func (in *Instance) VariationJSON(i, v int32) string {
	if i < 0 || v < 0 || i >= in.flagCount {
		return ""
	}
	p, ok := in.call2(fnVariationJSON, uint64(i), uint64(v))
	if !ok {
		return ""
	}
	s, _ := in.readPacked(fnVariationJSON, p)
	return s
}

// RuleID returns the id of rule r of flag i, "" when it has none or is out of range.
func (in *Instance) RuleID(i, r int32) string {
	if i < 0 || r < 0 || i >= in.flagCount {
		return ""
	}
	p, ok := in.call2(fnRuleID, uint64(i), uint64(r))
	if !ok {
		return ""
	}
	s, _ := in.readPacked(fnRuleID, p)
	return s
}

// IsStatic reports whether flag i serves the same result to every context, so a host may
// answer it without calling Evaluate.
func (in *Instance) IsStatic(i int32) bool {
	if uint32(i) >= uint32(in.flagCount) {
		return false
	}
	v, ok := in.call1(fnIsStatic, uint64(i))
	return ok && uint32(v) == 1
}

// errorText reads the guest's last error text.
func (in *Instance) errorText() string {
	p, ok := in.call0(fnErrorText)
	if !ok {
		return "(error text unavailable: " + in.err.Error() + ")"
	}
	s, ok := in.readPacked(fnErrorText, p)
	if !ok {
		return "(error text unavailable: " + in.err.Error() + ")"
	}
	if s == "" {
		return "(the guest gave no error text)"
	}
	return s
}

// writeBuffer copies data into the guest buffer, asking the guest for a larger one when needed.
func (in *Instance) writeBuffer(data []byte) error {
	if err := in.reserve(len(data)); err != nil {
		return err
	}
	if !in.mem.Write(in.bufPtr, data) {
		in.contractError(fnBuffer, "buffer outside guest memory")
		return in.err
	}
	return nil
}

func (in *Instance) writeBufferString(s string) error {
	if err := in.reserve(len(s)); err != nil {
		return err
	}
	if !in.mem.WriteString(in.bufPtr, s) {
		in.contractError(fnBuffer, "buffer outside guest memory")
		return in.err
	}
	return nil
}

// minBuffer is the smallest buffer asked for, so small contexts and keys never re-ask.
const minBuffer = 4096

// reserve makes sure the guest buffer holds n bytes. The guest answers 0 when it cannot
// provide the size (it refuses sizes it could not allocate rather than trapping): that is a
// *GuestError, and the instance stays usable.
func (in *Instance) reserve(n int) error {
	if in.err != nil {
		return in.err
	}
	if in.bufOK && uint64(n) <= uint64(in.bufCap) {
		return nil
	}
	if uint64(n) > math.MaxUint32 {
		return &GuestError{Op: "buffer", Text: "input of " + strconv.Itoa(n) + " bytes exceeds the 4 GiB address space"}
	}
	if limit := in.memLimit; limit != 0 && uint64(n) > limit {
		// The guest would trap trying to allocate it.
		return &GuestError{Op: "buffer", Text: "input of " + strconv.Itoa(n) + " bytes exceeds the instance's memory limit of " +
			strconv.FormatUint(limit, 10) + " bytes"}
	}
	size := max(uint32(n), minBuffer)
	p, ok := in.call1(fnBuffer, uint64(size))
	if !ok {
		return in.err
	}
	if uint32(p) == 0 {
		in.bufOK = false
		return &GuestError{Op: "buffer", Text: "the guest cannot provide a buffer of " + strconv.FormatUint(uint64(size), 10) + " bytes"}
	}
	in.bufPtr, in.bufCap, in.bufOK = uint32(p), size, true
	return nil
}

// readPacked copies the bytes a (ptr << 32 | len) result designates; 0 is "".
func (in *Instance) readPacked(fn int, p uint64) (string, bool) {
	if p == 0 {
		return "", true
	}
	b, ok := in.mem.Read(uint32(p>>32), uint32(p))
	if !ok {
		in.contractError(fn, "returned bytes outside guest memory")
		return "", false
	}
	return string(b), true
}

// The call helpers run guest function fn with the instance's stack. A failed call breaks
// the instance. They are separate per arity so that no call allocates.

func (in *Instance) call0(fn int) (uint64, bool) {
	if in.err != nil {
		return 0, false
	}
	return in.run(fn)
}

func (in *Instance) call1(fn int, a uint64) (uint64, bool) {
	if in.err != nil {
		return 0, false
	}
	in.stack[0] = a
	return in.run(fn)
}

func (in *Instance) call2(fn int, a, b uint64) (uint64, bool) {
	if in.err != nil {
		return 0, false
	}
	in.stack[0], in.stack[1] = a, b
	return in.run(fn)
}

func (in *Instance) run(fn int) (uint64, bool) {
	if err := in.fns[fn].CallWithStack(in.ctx, in.stack[:]); err != nil {
		in.err = &TrapError{Func: exports[fn].name, Err: err, Output: in.output.String()}
		in.bufOK = false
		return 0, false
	}
	return in.stack[0], true
}

// contractError breaks the instance for a guest reply the contract does not allow.
func (in *Instance) contractError(fn int, msg string) {
	if in.err == nil {
		in.err = &TrapError{Func: exports[fn].name, Err: errors.New(msg)}
	}
}

// tailWriter keeps the first and the last bytes a guest wrote to stdout and stderr (the
// standard Go build prints "fatal error: …" and then every goroutine's stack), for trap
// messages.
type tailWriter struct {
	head, tail []byte
	dropped    bool
}

const outputKeep = 1024

func (w *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	if room := outputKeep - len(w.head); room > 0 {
		k := min(room, len(p))
		w.head = append(w.head, p[:k]...)
		p = p[k:]
	}
	if len(p) > 0 {
		w.tail = append(w.tail, p...)
		if len(w.tail) > outputKeep {
			w.dropped = true
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-outputKeep:]...)
		}
	}
	return n, nil
}

func (w *tailWriter) String() string {
	if w.dropped {
		return string(w.head) + "\n…\n" + string(w.tail)
	}
	return string(w.head) + string(w.tail)
}

func (w *tailWriter) suffix() string {
	if s := w.String(); s != "" {
		return " (guest output: " + strconv.Quote(s) + ")"
	}
	return ""
}
