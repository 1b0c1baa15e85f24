package core

import (
	"strconv"

	"github.com/vexil-flags/vexil/core/model"
)

// Explanation is an evaluation with its reasons: the result Evaluate gives, and every decision
// that led to it, in the order the engine took them. It is for people (the API's and CLI's
// explain verb, the admin UI), not for the hot path: it allocates.
type Explanation struct {
	Result Result
	Steps  []Step
}

// Step is one decision of an evaluation.
type Step struct {
	Kind StepKind
	// Path locates the decision in the flag (or segment) document, in the notation of
	// validation problems: "prerequisites[0]", "rules[1]", "rules[1].clauses[0]",
	// "segments[\"beta\"].rules[0].clauses[2]".
	Path string
	// Ref is what the step is about: a prerequisite's flag key, a rule id, a segment key, the
	// attribute a clause tests.
	Ref     string
	Matched bool
	// Detail says in words what was compared, with the context's own values.
	Detail string
}

// StepKind names a kind of decision.
type StepKind string

const (
	StepRejected         StepKind = "rejected"
	StepEnabled          StepKind = "enabled"
	StepSchedule         StepKind = "schedule"
	StepPrerequisite     StepKind = "prerequisite"
	StepTarget           StepKind = "target"
	StepPercentageOfTime StepKind = "percentageOfTime"
	StepRule             StepKind = "rule"
	StepClause           StepKind = "clause"
	StepSegment          StepKind = "segment"
	StepRollout          StepKind = "rollout"
	StepFallthrough      StepKind = "fallthrough"
)

// Explain evaluates flag i for ctx like Evaluate and records why. It walks the same matchers
// as Evaluate in the same order, so its Result always equals Evaluate's (the golden vectors
// check this for every case).
func (e *Evaluator) Explain(i int, ctx *Context) Explanation {
	var x explainer
	x.e = e
	switch {
	case i < 0 || i >= len(e.snap.Flags):
		x.Result = errorResult(-1, ErrorFlagNotFound)
	case ctx == nil || ctx.snap != e.snap:
		x.Result = errorResult(int32(i), ErrorInvalidContext)
	default:
		x.Result = x.flag(i, ctx)
	}
	return x.Explanation
}

type explainer struct {
	Explanation
	e *Evaluator
}

func (x *explainer) add(kind StepKind, path, ref string, matched bool, detail string) {
	x.Steps = append(x.Steps, Step{Kind: kind, Path: path, Ref: ref, Matched: matched, Detail: detail})
}

// flag mirrors Evaluator.result and Evaluator.eval for the top-level flag.
func (x *explainer) flag(i int, ctx *Context) Result {
	e, f := x.e, &x.e.snap.Flags[i]
	flag := int32(i)
	if f.Rejected {
		x.add(StepRejected, "", f.Key, true, "the flag was rejected when the snapshot loaded: see the snapshot's problems")
		return errorResult(flag, ErrorParse)
	}
	off := int32(f.OffVariation)
	if !f.Enabled {
		x.add(StepEnabled, "enabled", f.Key, false, "the flag is off: serves its off variation")
		return makeResult(flag, off, -1, ReasonDisabled, ErrorNone, false)
	}
	x.add(StepEnabled, "enabled", f.Key, true, "the flag is on")
	if f.Schedule.Set {
		in := ctx.Now >= f.Schedule.NotBefore && ctx.Now < f.Schedule.NotAfter
		x.add(StepSchedule, "schedule", "", in, "now = "+strconv.FormatInt(ctx.Now, 10)+
			" ms; active from "+strconv.FormatInt(f.Schedule.NotBefore, 10)+" until "+strconv.FormatInt(f.Schedule.NotAfter, 10))
		if !in {
			return makeResult(flag, off, -1, ReasonDisabled, ErrorNone, false)
		}
	}
	for pi := range f.Prerequisites {
		pr := &f.Prerequisites[pi]
		v, _, reason, _ := e.eval(pr.Flag, ctx, 1)
		met := reason != ReasonDisabled && reason != ReasonPrerequisiteFailed && reason != ReasonError && containsInt(pr.Variations, v)
		x.add(StepPrerequisite, "prerequisites["+strconv.Itoa(pi)+"]", pr.Key, met,
			"serves variation "+strconv.Itoa(int(v))+" ("+reason.String()+"); needs one of "+intsJSON(pr.Variations))
		if !met {
			return makeResult(flag, off, -1, ReasonPrerequisiteFailed, ErrorNone, false)
		}
	}
	if len(f.Targets) > 0 {
		key := &ctx.attrs[0]
		v := targetFor(f, ctx)
		detail := "targetingKey " + attrJSON(key)
		if v >= 0 {
			detail += " is pinned to variation " + strconv.Itoa(v)
		} else {
			detail += " is not among the individual targets"
		}
		x.add(StepTarget, "targets", model.TargetingKey, v >= 0, detail)
		if v >= 0 {
			return makeResult(flag, int32(v), -1, ReasonTargetingMatch, ErrorNone, false)
		}
	}
	if f.PercentageOfTime >= 0 {
		b := bucket(ctx.Random)
		open := b < uint32(f.PercentageOfTime)
		x.add(StepPercentageOfTime, "percentageOfTime", "", open, "random bucket "+strconv.FormatUint(uint64(b), 10)+
			" of 100000; the gate is open below "+strconv.Itoa(int(f.PercentageOfTime)))
		if !open {
			return makeResult(flag, off, -1, ReasonSplit, ErrorNone, false)
		}
	}
	for ri := range f.Rules {
		rule := &f.Rules[ri]
		path := "rules[" + strconv.Itoa(ri) + "]"
		if x.rule(rule, path, ctx) {
			v, reason, exp := x.serve(f, &rule.Serve, path, ctx, ReasonTargetingMatch)
			return makeResult(flag, v, int32(ri), reason, ErrorNone, exp)
		}
	}
	reason := ReasonDefault
	if f.Static {
		reason = ReasonStatic
	}
	x.add(StepFallthrough, "fallthrough", "", true, "no rule matched")
	v, reason, exp := x.serve(f, &f.Fallthrough, "fallthrough", ctx, reason)
	return makeResult(flag, v, -1, reason, ErrorNone, exp)
}

// rule mirrors Evaluator.matchRule, recording each clause it tries.
func (x *explainer) rule(rule *model.Rule, path string, ctx *Context) bool {
	at := len(x.Steps)
	x.add(StepRule, path, rule.ID, false, "")
	matched := !rule.MatchAny
	for ci := range rule.Clauses {
		if x.clause(rule.Clauses, ci, path+".clauses["+strconv.Itoa(ci)+"]", ctx) == rule.MatchAny {
			matched = rule.MatchAny
			break
		}
	}
	s := &x.Steps[at]
	s.Matched = matched
	switch {
	case rule.MatchAny && matched:
		s.Detail = "a clause matched (match any)"
	case rule.MatchAny:
		s.Detail = "no clause matched (match any)"
	case matched:
		s.Detail = "every clause matched (match all)"
	default:
		s.Detail = "a clause did not match (match all)"
	}
	return matched
}

// clause explains clauses[i], matched alone by the evaluator's own matcher.
func (x *explainer) clause(clauses []model.Clause, i int, path string, ctx *Context) bool {
	c := &clauses[i]
	m := x.e.matchClauses(clauses[i:i+1], false, ctx)
	a := &ctx.attrs[c.Attr]
	detail := c.Attribute + " " + attrJSON(a) + " "
	if c.Negate {
		detail += "not "
	}
	detail += c.Op.String()
	if c.Op != model.OpExists {
		detail += " " + x.clauseValues(c)
	}
	if a.kind == attrAbsent && !c.Op.IsSegmentOp() && c.Op != model.OpExists {
		detail += ": the attribute is missing, which never matches"
	}
	at := len(x.Steps)
	x.add(StepClause, path, c.Attribute, m, detail)
	if c.Op.IsSegmentOp() {
		for _, si := range c.Segments {
			if x.segment(si, ctx) {
				break
			}
		}
		// The clause's own step reads better after its segments' steps.
		step := x.Steps[at]
		copy(x.Steps[at:], x.Steps[at+1:])
		x.Steps[len(x.Steps)-1] = step
	}
	return m
}

// segment mirrors Evaluator.inSegment.
func (x *explainer) segment(si int, ctx *Context) bool {
	s := &x.e.snap.Segments[si]
	path := "segments[" + string(AppendJSONString(nil, s.Key)) + "]"
	if key := &ctx.attrs[0]; key.kind == attrString {
		k := ctx.targetKey()
		if k.find(&s.Included) >= 0 {
			x.add(StepSegment, path, s.Key, true, "targetingKey "+attrJSON(key)+" is included")
			return true
		}
		if k.find(&s.Excluded) >= 0 {
			x.add(StepSegment, path, s.Key, false, "targetingKey "+attrJSON(key)+" is excluded")
			return false
		}
	}
	for ri := range s.Rules {
		if x.rule(&s.Rules[ri], path+".rules["+strconv.Itoa(ri)+"]", ctx) {
			x.add(StepSegment, path, s.Key, true, "a segment rule matched")
			return true
		}
	}
	x.add(StepSegment, path, s.Key, false, "not included and no segment rule matched")
	return false
}

// serve mirrors serve, recording a rollout's bucket.
func (x *explainer) serve(f *model.Flag, s *model.Serve, path string, ctx *Context, reason Reason) (int32, Reason, bool) {
	v, reason, exp := serve(f, s, ctx, reason)
	ro := s.Rollout
	if ro == nil {
		return v, reason, exp
	}
	a := &ctx.attrs[ro.BucketBy]
	detail := "bucket by " + ro.BucketByName + " " + attrJSON(a) + " with salt " + string(AppendJSONString(nil, ro.Salt))
	if b, ok := bucketOf(ro, a); ok {
		detail += ": bucket " + strconv.FormatUint(uint64(b), 10) + " of 100000 → variation " + strconv.Itoa(int(v))
	} else {
		detail += ": no string or integer value to hash, so the first range's variation " + strconv.Itoa(int(v))
	}
	if exp {
		detail += "; in the experiment"
	}
	x.add(StepRollout, path+".rollout", ro.BucketByName, reason == ReasonSplit, detail)
	return v, reason, exp
}

// AppendExplanationJSON appends the explanation as one JSON object: the result's fields as
// AppendJSON writes them, plus "steps": [{"step","path","ref","matched","detail"}].
func (e *Evaluator) AppendExplanationJSON(dst []byte, x Explanation) []byte {
	key := ""
	if x.Result.Flag >= 0 && int(x.Result.Flag) < len(e.snap.Flags) {
		key = e.snap.Flags[x.Result.Flag].Key
	}
	dst = e.AppendJSON(dst, key, x.Result, "null")
	dst = append(dst[:len(dst)-1], `,"steps":[`...)
	for i, s := range x.Steps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"step":`...)
		dst = AppendJSONString(dst, string(s.Kind))
		dst = append(dst, `,"path":`...)
		dst = AppendJSONString(dst, s.Path)
		if s.Ref != "" {
			dst = append(dst, `,"ref":`...)
			dst = AppendJSONString(dst, s.Ref)
		}
		dst = append(dst, `,"matched":`...)
		dst = strconv.AppendBool(dst, s.Matched)
		dst = append(dst, `,"detail":`...)
		dst = AppendJSONString(dst, s.Detail)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// clauseValues renders a clause's values as a JSON-like list, the first few of a long one.
func (x *explainer) clauseValues(c *model.Clause) string {
	const shown = 5
	b := []byte{'['}
	n := 0
	item := func() bool {
		n++
		if n > 1 && n <= shown {
			b = append(b, ',')
		}
		return n <= shown
	}
	for _, v := range c.Strings {
		if item() {
			b = AppendJSONString(b, v)
		}
	}
	for _, v := range c.Numbers {
		if item() {
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	for _, v := range c.Bools {
		if item() {
			b = strconv.AppendBool(b, v)
		}
	}
	for _, v := range c.Times {
		if item() {
			b = strconv.AppendInt(b, v, 10)
		}
	}
	for _, v := range c.Versions {
		if item() {
			b = append(b, '"')
			b = strconv.AppendUint(b, v.Major, 10)
			b = append(b, '.')
			b = strconv.AppendUint(b, v.Minor, 10)
			b = append(b, '.')
			b = strconv.AppendUint(b, v.Patch, 10)
			if v.Pre != "" {
				b = append(b, '-')
				b = append(b, v.Pre...)
			}
			b = append(b, '"')
		}
	}
	for _, re := range c.Regexps {
		if item() {
			b = AppendJSONString(b, re.String())
		}
	}
	for _, si := range c.Segments {
		if item() {
			b = AppendJSONString(b, x.e.snap.Segments[si].Key)
		}
	}
	if n > shown {
		b = append(b, " … "...)
		b = strconv.AppendInt(b, int64(n-shown), 10)
		b = append(b, " more"...)
	}
	return string(append(b, ']'))
}

func containsInt(list []int, v int32) bool {
	for _, w := range list {
		if int32(w) == v {
			return true
		}
	}
	return false
}

func intsJSON(list []int) string {
	b := []byte{'['}
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return string(append(b, ']'))
}

// attrJSON renders a context value for a person: "(missing)" or its JSON.
func attrJSON(a *attr) string {
	switch a.kind {
	case attrString:
		return string(AppendJSONString(nil, a.s))
	case attrNumber:
		return strconv.FormatFloat(a.n, 'g', -1, 64)
	case attrBool:
		return strconv.FormatBool(a.b)
	case attrList:
		b := []byte{'['}
		for i, s := range a.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, s)
		}
		return string(append(b, ']'))
	}
	return "(missing)"
}
