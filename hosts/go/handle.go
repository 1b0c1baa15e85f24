package vexil

import (
	"encoding/json"
	"math/rand/v2"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/hosts/go/internal/catalog"
	"github.com/vexil-flags/vexil/hosts/go/internal/pool"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// handleIDs numbers bound contexts, so a wasm instance knows whose context it holds.
var handleIDs atomic.Uint64

// Handle is a context bound for many checks — one per request is the fast path: the context
// is prepared once (encoded for the wasm engine, interned for the native one), and each check
// is a flag lookup and one engine call, without allocating.
//
// A Handle is not safe for concurrent use; make one per goroutine. It keeps the context's
// Attributes map: do not modify the map while the handle is bound to it. It follows snapshot swaps
// by itself (re-preparing the context for the new snapshot on its next check). Each Handle
// draws one random number when bound, so percentage-of-time flags answer consistently within
// a request.
type Handle struct {
	c      *Client
	ctx    Context
	now    int64
	random uint32
	err    error  // why the context is unusable
	id     uint64 // identifies this binding to wasm instances

	gen      *generation // the snapshot the prepared context belongs to
	native   *core.Context
	nativeEv *core.Evaluator // the snapshot native was made for
	enc      abi.Encoder
	encoded  []byte
	prefer   int // the wasm slot used last

	// keys caches flag lookups in keysGen's catalog by the address of the key's bytes: call
	// sites pass string constants, whose bytes never move, so a hit skips hashing the key.
	keys    [keyCacheSize]cachedKey
	keysGen *generation
}

const keyCacheSize = 16

type cachedKey struct {
	key   string // keeps the bytes alive, so an equal address and length mean equal contents
	index int32
}

// lookup resolves a flag key in g's catalog through the handle's cache.
func (h *Handle) lookup(g *generation, key string) (int32, *catalog.Flag) {
	if h.keysGen != g {
		h.keys, h.keysGen = [keyCacheSize]cachedKey{}, g
	}
	if len(key) == 0 {
		return g.cat.Lookup(key)
	}
	p := unsafe.StringData(key)
	e := &h.keys[uintptr(unsafe.Pointer(p))>>3%keyCacheSize]
	if len(e.key) == len(key) && unsafe.StringData(e.key) == p {
		return e.index, &g.cat.Flags[e.index]
	}
	i, f := g.cat.Lookup(key)
	if f != nil {
		*e = cachedKey{key: key, index: i}
	}
	return i, f
}

// For binds a context for many checks.
func (c *Client) For(ctx Context) *Handle {
	h := &Handle{c: c}
	h.Reset(ctx)
	return h
}

// Reset binds the handle to another context, keeping its storage: a server can keep one
// Handle per worker and Reset it per request.
func (h *Handle) Reset(ctx Context) {
	h.ctx = ctx
	h.err = ctx.validate()
	if ctx.Now.IsZero() {
		h.now = time.Now().UnixMilli()
	} else {
		h.now = ctx.Now.UnixMilli()
	}
	h.random = rand.Uint32()
	h.id = handleIDs.Add(1)
	h.gen = nil
}

// prepare fills the engine's form of the context for generation g: a native context, or the
// binary encoding a wasm instance reads. Attributes no flag of the snapshot uses are dropped.
func (h *Handle) prepare(g *generation) {
	h.gen = g
	var w contextWriter
	if g.ev != nil {
		if h.nativeEv != g.ev {
			h.native, h.nativeEv = g.ev.NewContext(), g.ev
		} else {
			h.native.Reset()
		}
		h.native.Now, h.native.Random = h.now, h.random
		w = nativeWriter{h.native}
	} else {
		h.enc.Reset(h.now, h.random)
		w = &h.enc
	}
	key, hasKey := h.ctx.TargetingKey, h.ctx.TargetingKey != ""
	for name, v := range h.ctx.Attributes {
		if hasKey && name == targetingKeyName {
			continue
		}
		id := g.cat.AttributeID(name)
		if id < 0 {
			continue
		}
		switch v := v.(type) {
		case string:
			w.String(uint32(id), v)
		case bool:
			w.Bool(uint32(id), v)
		case []string:
			w.Strings(uint32(id), v)
		case []any:
			w.Strings(uint32(id), stringList(v))
		default:
			if f, ok := number(v); ok {
				w.Number(uint32(id), f)
			}
		}
	}
	if hasKey {
		w.String(0, key)
	}
	if g.ev == nil {
		h.encoded = h.enc.Bytes()
	}
}

// contextWriter sets attributes by id: abi.Encoder for the wasm engine, nativeWriter for the
// native one.
type contextWriter interface {
	String(id uint32, s string)
	Number(id uint32, n float64)
	Bool(id uint32, b bool)
	Strings(id uint32, list []string)
}

type nativeWriter struct{ c *core.Context }

func (w nativeWriter) String(id uint32, s string)       { w.c.SetStringID(int(id), s) }
func (w nativeWriter) Number(id uint32, n float64)      { w.c.SetNumberID(int(id), n) }
func (w nativeWriter) Bool(id uint32, b bool)           { w.c.SetBoolID(int(id), b) }
func (w nativeWriter) Strings(id uint32, list []string) { w.c.SetStringsID(int(id), list) }

func stringList(list []any) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i], _ = v.(string)
	}
	return out
}

// eval is one check of flag key as type t: the engine's result and the flag and snapshot
// that answered, or — when no engine result exists (no snapshot, unknown flag, unusable
// context, engine failure) — an error code and cause. It allocates nothing on success.
func (h *Handle) eval(key string, t core.Type) (r core.Result, f *catalog.Flag, g *generation, code ErrorCode, err error) {
	for {
		g = h.c.gen.Load()
		if g == nil {
			if h.c.closed.Load() {
				return r, nil, nil, ErrorGeneral, ErrClosed
			}
			return r, nil, nil, ErrorProviderNotReady, ErrNotReady
		}
		fi, f := h.lookup(g, key)
		if f == nil {
			return r, nil, g, ErrorFlagNotFound, nil
		}
		if h.err != nil {
			return r, f, g, ErrorInvalidContext, h.err
		}
		if f.Static {
			return f.StaticResult(t), f, g, ErrorNone, nil
		}
		if h.gen != g {
			h.prepare(g)
		}
		if g.ev != nil {
			return g.ev.EvaluateTyped(int(fi), h.native, t), f, g, ErrorNone, nil
		}
		sl, err := g.pool.Acquire(h.prefer)
		if err == pool.ErrRetired {
			continue // a newer snapshot was swapped in: use it
		}
		if err != nil {
			return r, f, g, ErrorGeneral, err
		}
		h.prefer = sl.Index()
		if sl.ContextID != h.id {
			if err := sl.In.SetContext(h.encoded); err != nil {
				code, err = h.fail(sl, ErrorInvalidContext, err)
				return r, f, g, code, err
			}
			sl.ContextID = h.id
		}
		r = sl.In.EvaluateTyped(fi, t)
		if sl.In.Broken() {
			code, err = h.fail(sl, ErrorGeneral, sl.In.Err())
			return r, f, g, code, err
		}
		sl.Release()
		return r, f, g, ErrorNone, nil
	}
}

// fail ends a wasm check that went wrong: a broken instance is discarded (and replaced in
// the background), a usable one released.
func (h *Handle) fail(sl *pool.Slot, code ErrorCode, err error) (ErrorCode, error) {
	if sl.In.Broken() {
		sl.Discard()
		return ErrorGeneral, err
	}
	sl.ContextID = 0
	sl.Release()
	return code, err
}

// value returns the served value of a successful check, nil for the caller's default.
func value(r core.Result, f *catalog.Flag, code ErrorCode) *catalog.Value {
	if code != ErrorNone {
		return nil
	}
	v, _ := f.Value(r)
	return v
}

// detail runs a check and dresses it as a Detail.
func (h *Handle) detail(key string, t core.Type) (Detail, *catalog.Value) {
	r, f, g, code, err := h.eval(key, t)
	version := int64(-1)
	if g != nil {
		version = g.cat.Version
	}
	if code != ErrorNone {
		return errDetail(key, code, err, version), nil
	}
	return detailOf(key, f, r, g)
}

func detailOf(key string, f *catalog.Flag, r core.Result, g *generation) (Detail, *catalog.Value) {
	d := Detail{
		Variation:    int(r.Variation),
		Reason:       reasons[r.Reason()],
		RuleID:       f.RuleID(r),
		InExperiment: r.InExperiment(),
		Version:      g.cat.Version,
	}
	if code := r.ErrorCode(); code != core.ErrorNone {
		d.ErrorCode = errorCodes[code]
		d.Err = &EvalError{Flag: key, Code: d.ErrorCode}
	}
	v, ok := f.Value(r)
	if ok {
		d.ValueJSON = v.JSON
	}
	return d, v
}

func errDetail(key string, code ErrorCode, err error, version int64) Detail {
	return Detail{Variation: -1, Reason: ReasonError, ErrorCode: code, Err: &EvalError{Flag: key, Code: code, Err: err}, Version: version}
}

// eval0 is eval for the value-only getters.
func (h *Handle) eval0(key string, t core.Type) (core.Result, *catalog.Flag, ErrorCode) {
	r, f, _, code, _ := h.eval(key, t)
	return r, f, code
}

// Bool returns the value of a boolean flag, or def on any failure.
func (h *Handle) Bool(key string, def bool) bool {
	if v := value(h.eval0(key, core.TypeBool)); v != nil {
		return v.Bool
	}
	return def
}

// BoolDetail is Bool with the detail of the check.
func (h *Handle) BoolDetail(key string, def bool) (bool, Detail) {
	d, v := h.detail(key, core.TypeBool)
	if v == nil {
		return def, d
	}
	return v.Bool, d
}

// String returns the value of a string flag, or def on any failure.
func (h *Handle) String(key string, def string) string {
	if v := value(h.eval0(key, core.TypeString)); v != nil {
		return v.Str
	}
	return def
}

// StringDetail is String with the detail of the check.
func (h *Handle) StringDetail(key string, def string) (string, Detail) {
	d, v := h.detail(key, core.TypeString)
	if v == nil {
		return def, d
	}
	return v.Str, d
}

// Float returns the value of a number flag, or def on any failure.
func (h *Handle) Float(key string, def float64) float64 {
	if v := value(h.eval0(key, core.TypeNumber)); v != nil {
		return v.Num
	}
	return def
}

// FloatDetail is Float with the detail of the check.
func (h *Handle) FloatDetail(key string, def float64) (float64, Detail) {
	d, v := h.detail(key, core.TypeNumber)
	if v == nil {
		return def, d
	}
	return v.Num, d
}

// Int returns the value of a number flag as an integer, or def on any failure — including a
// served value with a fraction or beyond ±2^53 (TYPE_MISMATCH), so every host agrees.
func (h *Handle) Int(key string, def int64) int64 {
	if v := value(h.eval0(key, core.TypeInteger)); v != nil {
		return int64(v.Num)
	}
	return def
}

// IntDetail is Int with the detail of the check.
func (h *Handle) IntDetail(key string, def int64) (int64, Detail) {
	d, v := h.detail(key, core.TypeInteger)
	if v == nil {
		return def, d
	}
	return int64(v.Num), d
}

// JSON returns the served value of a flag of any kind as JSON (a fresh copy), or def on any
// failure.
func (h *Handle) JSON(key string, def json.RawMessage) json.RawMessage {
	v, _ := h.JSONDetail(key, def)
	return v
}

// JSONDetail is JSON with the detail of the check.
func (h *Handle) JSONDetail(key string, def json.RawMessage) (json.RawMessage, Detail) {
	d, v := h.detail(key, core.TypeJSON)
	if v == nil {
		return def, d
	}
	return json.RawMessage(v.JSON), d
}

// Flags is every flag of one snapshot evaluated for one context.
type Flags struct {
	g       *generation
	results []core.Result
	d       Detail // for the whole set, when no snapshot or context could answer
}

// All evaluates every flag of the snapshot for the handle's context, in one engine call.
func (h *Handle) All() Flags {
	for {
		g := h.c.gen.Load()
		if g == nil {
			if h.c.closed.Load() {
				return Flags{d: errDetail("", ErrorGeneral, ErrClosed, -1)}
			}
			return Flags{d: errDetail("", ErrorProviderNotReady, ErrNotReady, -1)}
		}
		if h.err != nil {
			return Flags{d: errDetail("", ErrorInvalidContext, h.err, g.cat.Version)}
		}
		out := make([]core.Result, 0, len(g.cat.Flags))
		if h.gen != g {
			h.prepare(g)
		}
		if g.ev != nil {
			return Flags{g: g, results: g.ev.EvaluateAll(h.native, out)}
		}
		sl, err := g.pool.Acquire(h.prefer)
		if err == pool.ErrRetired {
			continue
		}
		if err != nil {
			return Flags{d: errDetail("", ErrorGeneral, err, g.cat.Version)}
		}
		h.prefer = sl.Index()
		if sl.ContextID != h.id {
			if err := sl.In.SetContext(h.encoded); err != nil {
				code, err := h.fail(sl, ErrorInvalidContext, err)
				return Flags{d: errDetail("", code, err, g.cat.Version)}
			}
			sl.ContextID = h.id
		}
		out = sl.In.EvaluateAll(out)
		if sl.In.Broken() {
			code, err := h.fail(sl, ErrorGeneral, sl.In.Err())
			return Flags{d: errDetail("", code, err, g.cat.Version)}
		}
		sl.Release()
		return Flags{g: g, results: out}
	}
}

// Len is the number of flags.
func (a Flags) Len() int { return len(a.results) }

// Key is the key of flag i.
func (a Flags) Key(i int) string { return a.g.cat.Flags[i].Key }

// Err is why no flag could be evaluated (no snapshot, closed client, unusable context, engine
// failure), or nil.
func (a Flags) Err() error { return a.d.Err }

// Version is the snapshot version that answered, -1 when none.
func (a Flags) Version() int64 {
	if a.g == nil {
		return a.d.Version
	}
	return a.g.cat.Version
}

// Detail is the detail of flag i.
func (a Flags) Detail(i int) Detail {
	f := &a.g.cat.Flags[i]
	d, _ := detailOf(f.Key, f, a.results[i], a.g)
	return d
}

// Value is the JSON of the value flag i serves, and false when it serves the caller's
// default (a rejected flag, or an off flag without off variation).
func (a Flags) Value(i int) (string, bool) {
	v, ok := a.g.cat.Flags[i].Value(a.results[i])
	if !ok {
		return "", false
	}
	return v.JSON, true
}

// MarshalJSON renders {"flag-key": value, ...} for every flag that serves a value — the form a
// server hands to a browser that should not evaluate itself.
func (a Flags) MarshalJSON() ([]byte, error) {
	if a.g == nil {
		return nil, a.d.Err
	}
	b := []byte{'{'}
	for i := range a.results {
		js, ok := a.Value(i)
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = core.AppendJSONString(b, a.Key(i))
		b = append(b, ':')
		b = append(b, js...)
	}
	return append(b, '}'), nil
}

// The client's own getters bind ctx for one check (through a pooled Handle). For several
// checks with one context, bind it once with For.

// Bool returns the value of a boolean flag for ctx, or def on any failure.
func (c *Client) Bool(ctx Context, key string, def bool) bool {
	v, _ := c.BoolDetail(ctx, key, def)
	return v
}

// BoolDetail is Bool with the detail of the check.
func (c *Client) BoolDetail(ctx Context, key string, def bool) (bool, Detail) {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.BoolDetail(key, def)
}

// String returns the value of a string flag for ctx, or def on any failure.
func (c *Client) String(ctx Context, key string, def string) string {
	v, _ := c.StringDetail(ctx, key, def)
	return v
}

// StringDetail is String with the detail of the check.
func (c *Client) StringDetail(ctx Context, key string, def string) (string, Detail) {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.StringDetail(key, def)
}

// Float returns the value of a number flag for ctx, or def on any failure.
func (c *Client) Float(ctx Context, key string, def float64) float64 {
	v, _ := c.FloatDetail(ctx, key, def)
	return v
}

// FloatDetail is Float with the detail of the check.
func (c *Client) FloatDetail(ctx Context, key string, def float64) (float64, Detail) {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.FloatDetail(key, def)
}

// Int returns the value of an integer flag for ctx, or def on any failure.
func (c *Client) Int(ctx Context, key string, def int64) int64 {
	v, _ := c.IntDetail(ctx, key, def)
	return v
}

// IntDetail is Int with the detail of the check.
func (c *Client) IntDetail(ctx Context, key string, def int64) (int64, Detail) {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.IntDetail(key, def)
}

// JSON returns the value of a flag of any kind as JSON for ctx, or def on any failure.
func (c *Client) JSON(ctx Context, key string, def json.RawMessage) json.RawMessage {
	v, _ := c.JSONDetail(ctx, key, def)
	return v
}

// JSONDetail is JSON with the detail of the check.
func (c *Client) JSONDetail(ctx Context, key string, def json.RawMessage) (json.RawMessage, Detail) {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.JSONDetail(key, def)
}

// All evaluates every flag for ctx.
func (c *Client) All(ctx Context) Flags {
	h := c.borrow(ctx)
	defer c.handles.Put(h)
	return h.All()
}

func (c *Client) borrow(ctx Context) *Handle {
	h := c.handles.Get().(*Handle)
	h.Reset(ctx)
	return h
}

// snapshotVersion reads a snapshot's version, -1 when it has none.
func snapshotVersion(data []byte) int64 {
	v := gjson.GetBytes(data, "version")
	if v.Type != gjson.Number {
		return -1
	}
	return v.Int()
}
