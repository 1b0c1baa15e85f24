package core

import (
	"github.com/vexil-flags/vexil/core/model"
)

// Evaluator evaluates flags of one compiled snapshot. It is immutable and safe for concurrent
// use; each goroutine brings its own Context.
type Evaluator struct {
	snap *model.Snapshot
}

// New returns an evaluator over a compiled snapshot.
func New(s *model.Snapshot) *Evaluator { return &Evaluator{snap: s} }

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
		return Result{Flag: -1, Variation: -1, Rule: -1, Reason: ReasonError, Error: ErrorFlagNotFound}
	}
	if ctx == nil || ctx.snap != e.snap {
		return Result{Flag: int32(i), Variation: -1, Rule: -1, Reason: ReasonError, Error: ErrorInvalidContext}
	}
	return e.eval(i, ctx, 0)
}

// EvaluateTyped is Evaluate for a typed getter: a flag whose variations are not of type t, or
// an integer check of a value with a fraction, yields TYPE_MISMATCH.
func (e *Evaluator) EvaluateTyped(i int, ctx *Context, t Type) Result {
	if i < 0 || i >= len(e.snap.Flags) || e.snap.Flags[i].Rejected || t == TypeAny {
		return e.Evaluate(i, ctx)
	}
	f := &e.snap.Flags[i]
	if !t.accepts(f.Kind) {
		return Result{Flag: int32(i), Variation: -1, Rule: -1, Reason: ReasonError, Error: ErrorTypeMismatch}
	}
	r := e.Evaluate(i, ctx)
	if t == TypeInteger && r.Variation >= 0 {
		if n := f.Variations[r.Variation].Num; n != float64(int64(n)) {
			return Result{Flag: int32(i), Variation: -1, Rule: -1, Reason: ReasonError, Error: ErrorTypeMismatch}
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
	for i := range e.snap.Flags {
		out = append(out, e.Evaluate(i, ctx))
	}
	return out
}

// StaticResult returns the result of a flag that serves the same to every context (see
// model.Flag.Static), so hosts can answer it without evaluating.
func (e *Evaluator) StaticResult(i int) (Result, bool) {
	if i < 0 || i >= len(e.snap.Flags) || !e.snap.Flags[i].Static {
		return Result{}, false
	}
	return e.eval(i, &Context{snap: e.snap}, 0), true
}

func (e *Evaluator) eval(i int, ctx *Context, depth int) Result {
	f := &e.snap.Flags[i]
	r := Result{Flag: int32(i), Variation: -1, Rule: -1}
	switch {
	case f.Rejected || depth > model.MaxPrerequisiteDepth:
		r.Reason, r.Error = ReasonError, ErrorParse
		return r
	case !f.Enabled:
		return off(f, r, ReasonDisabled)
	case f.Schedule.Set && (ctx.Now < f.Schedule.NotBefore || ctx.Now >= f.Schedule.NotAfter):
		return off(f, r, ReasonDisabled)
	}
	if !e.prerequisitesMet(f, ctx, depth) {
		return off(f, r, ReasonPrerequisiteFailed)
	}
	if v := targetFor(f, ctx); v >= 0 {
		r.Variation, r.Reason = int32(v), ReasonTargetingMatch
		return r
	}
	if f.PercentageOfTime >= 0 && bucket(ctx.Random) >= uint32(f.PercentageOfTime) {
		return off(f, r, ReasonSplit)
	}
	for ri := range f.Rules {
		rule := &f.Rules[ri]
		if e.matchRule(rule, ctx) {
			r.Rule = int32(ri)
			return serve(f, &rule.Serve, ctx, r, ReasonTargetingMatch)
		}
	}
	if f.Static {
		return serve(f, &f.Fallthrough, ctx, r, ReasonStatic)
	}
	return serve(f, &f.Fallthrough, ctx, r, ReasonDefault)
}

// off serves the off variation, or the caller's default when the flag has none.
func off(f *model.Flag, r Result, reason Reason) Result {
	r.Variation, r.Reason = int32(f.OffVariation), reason
	return r
}

func targetFor(f *model.Flag, ctx *Context) int {
	if len(f.Targets) == 0 || ctx.attrs[0].kind != attrString {
		return -1
	}
	return f.TargetVariation(ctx.attrs[0].s)
}

// matchRule applies a rule's clauses, all or any.
func (e *Evaluator) matchRule(rule *model.Rule, ctx *Context) bool {
	for ci := range rule.Clauses {
		if e.matchClause(&rule.Clauses[ci], ctx) == rule.MatchAny {
			return rule.MatchAny
		}
	}
	return !rule.MatchAny
}
