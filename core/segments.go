package core

import "github.com/vexil-flags/vexil/core/model"

// inSegment decides membership: included keys are in, then excluded keys are out, then any
// matching segment rule puts the context in.
func (e *Evaluator) inSegment(s *model.Segment, ctx *Context) bool {
	if ctx.attrs[0].kind == attrString {
		key, head := ctx.targetKey()
		if s.Included.Has(key, head) {
			return true
		}
		if s.Excluded.Has(key, head) {
			return false
		}
	}
	for ri := range s.Rules {
		if e.matchRule(&s.Rules[ri], ctx) {
			return true
		}
	}
	return false
}
