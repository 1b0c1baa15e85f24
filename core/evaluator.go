package core

import (
	"math"

	"github.com/vexil-flags/vexil/core/model"
)

// maxSafeInteger is the largest integer every host represents exactly (2^53, JavaScript's
// Number.MAX_SAFE_INTEGER + 1): integer checks refuse values beyond it.
const maxSafeInteger = 1 << 53

// Evaluator evaluates flags of one compiled snapshot. It is immutable and safe for concurrent
// use; each goroutine brings its own Context.
type Evaluator struct {
	snap *model.Snapshot
	// static holds, by flag index, the result of each static flag (model.Flag.Static), worked
	// out once here; the other flags' entries have Flag -1.
	static []Result
}

// New returns an evaluator over a compiled snapshot.
func New(s *model.Snapshot) *Evaluator {
	e := &Evaluator{snap: s, static: make([]Result, len(s.Flags))}
	empty := &Context{snap: s, attrs: make([]attr, len(s.Attributes))}
	for i := range s.Flags {
		e.static[i].Flag = -1
		if s.Flags[i].Static {
			e.static[i] = e.result(i, empty)
		}
	}
	return e
}

// Load parses and compiles a snapshot and returns its evaluator. Problems with single flags do
// not fail the load: they are listed in Snapshot().Problems and those flags evaluate to
// PARSE_ERROR. The error is for a snapshot that is unusable as a whole.
func Load(data []byte) (*Evaluator, error) {
	s, err := model.Parse(data)
	if err != nil {
		return nil, err
	}
	return New(s), nil
}

// Snapshot returns the compiled snapshot.
func (e *Evaluator) Snapshot() *model.Snapshot { return e.snap }

// FlagIndex returns the index of a flag key, or -1. Hosts resolve keys once per snapshot.
func (e *Evaluator) FlagIndex(key string) int { return e.snap.FlagIndex(key) }

// EvaluateKey evaluates the flag with key.
func (e *Evaluator) EvaluateKey(key string, ctx *Context) Result {
	return e.Evaluate(e.snap.FlagIndex(key), ctx)
}

// Evaluate evaluates the flag at index i (from FlagIndex) for ctx, in the order SNAPSHOT.md
// gives. An index out of range yields FLAG_NOT_FOUND. It never allocates and never panics.
func (e *Evaluator) Evaluate(i int, ctx *Context) Result {
	if i < 0 || i >= len(e.snap.Flags) {
		return errorResult(-1, ErrorFlagNotFound)
	}
	if ctx == nil || ctx.snap != e.snap {
		return errorResult(int32(i), ErrorInvalidContext)
	}
	if r := e.static[i]; r.Flag >= 0 {
		return r
	}
	return e.result(i, ctx)
}

// EvaluateTyped is Evaluate for a typed getter: a flag whose variations are not of type t, or
// an integer check of a value with a fraction, yields TYPE_MISMATCH.
func (e *Evaluator) EvaluateTyped(i int, ctx *Context, t Type) Result {
	if i < 0 || i >= len(e.snap.Flags) || e.snap.Flags[i].Rejected || t == TypeAny {
		return e.Evaluate(i, ctx)
	}
	f := &e.snap.Flags[i]
	if !t.accepts(f.Kind) {
		return errorResult(int32(i), ErrorTypeMismatch)
	}
	r := e.Evaluate(i, ctx)
	if t == TypeInteger && r.Variation >= 0 {
		if n := f.Variations[r.Variation].Num; n != math.Trunc(n) || math.Abs(n) > maxSafeInteger {
			return errorResult(int32(i), ErrorTypeMismatch)
		}
	}
	return r
}

func (t Type) accepts(k model.Kind) bool {
	switch t {
	case TypeBool:
		return k == model.KindBool
	case TypeString:
		return k == model.KindString
	case TypeNumber, TypeInteger:
		return k == model.KindNumber
	}
	return true
}

// EvaluateAll evaluates every flag, in snapshot order, appending to out[:0]. Pass the previous
// slice back to evaluate without allocating.
func (e *Evaluator) EvaluateAll(ctx *Context, out []Result) []Result {
	out = out[:0]
	if ctx == nil || ctx.snap != e.snap {
		for i := range e.snap.Flags {
			out = append(out, errorResult(int32(i), ErrorInvalidContext))
		}
		return out
	}
	for i, r := range e.static {
		if r.Flag < 0 {
			r = e.result(i, ctx)
		}
		out = append(out, r)
	}
	return out
}

// StaticResult returns the result of a flag that serves the same to every context (see
// model.Flag.Static), so hosts can answer it without evaluating.
func (e *Evaluator) StaticResult(i int) (Result, bool) {
	if i < 0 || i >= len(e.static) || e.static[i].Flag < 0 {
		return Result{}, false
	}
	return e.static[i], true
}

func (e *Evaluator) result(i int, ctx *Context) Result {
	v, rule, reason, exp := e.eval(i, ctx, 0)
	code := ErrorNone
	if reason == ReasonError {
		code = ErrorParse
	}
	return makeResult(int32(i), v, rule, reason, code, exp)
}

// eval decides one flag. It returns scalars rather than a Result so that the prerequisite
// recursion and the many exits stay in registers; Evaluate builds the Result once.
func (e *Evaluator) eval(i int, ctx *Context, depth int) (variation, rule int32, reason Reason, inExperiment bool) {
	f := &e.snap.Flags[i]
	switch {
	case f.Rejected || depth > model.MaxPrerequisiteDepth:
		return -1, -1, ReasonError, false
	case !f.Enabled:
		return int32(f.OffVariation), -1, ReasonDisabled, false
	case f.Schedule.Set && (ctx.Now < f.Schedule.NotBefore || ctx.Now >= f.Schedule.NotAfter):
		return int32(f.OffVariation), -1, ReasonDisabled, false
	}
	if len(f.Prerequisites) > 0 && !e.prerequisitesMet(f, ctx, depth) {
		return int32(f.OffVariation), -1, ReasonPrerequisiteFailed, false
	}
	if v := targetFor(f, ctx); v >= 0 {
		return int32(v), -1, ReasonTargetingMatch, false
	}
	if f.PercentageOfTime >= 0 && bucket(ctx.Random) >= uint32(f.PercentageOfTime) {
		// The off variation, served because the random gate stayed shut.
		return int32(f.OffVariation), -1, ReasonSplit, false
	}
	for ri := range f.Rules {
		rule := &f.Rules[ri]
		if e.matchRule(rule, ctx) {
			v, reason, exp := serve(f, &rule.Serve, ctx, ReasonTargetingMatch)
			return v, int32(ri), reason, exp
		}
	}
	reason = ReasonDefault
	if f.Static {
		reason = ReasonStatic
	}
	v, reason, exp := serve(f, &f.Fallthrough, ctx, reason)
	return v, -1, reason, exp
}

func targetFor(f *model.Flag, ctx *Context) int {
	if len(f.Targets) == 0 || ctx.attrs[0].kind != attrString {
		return -1
	}
	if i := ctx.targetKey().find(f.TargetKeys()); i >= 0 {
		return f.TargetVariation(i)
	}
	return -1
}
