package core

import "github.com/vexil-flags/vexil/core/model"

// inSegment decides membership: included keys are in, then excluded keys are out, then any
// matching segment rule puts the context in.
func (e *Evaluator) inSegment(s *model.Segment, ctx *Context) bool {
	if ctx.attrs[0].kind == attrString {
		key := ctx.targetKey()
		if key.find(&s.Included) >= 0 {
			return true
		}
		if key.find(&s.Excluded) >= 0 {
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
