package core

import "github.com/vexil-flags/vexil/core/model"

// inSegment decides membership: included keys are in, then excluded keys are out, then any
// matching segment rule puts the context in.
func (e *Evaluator) inSegment(s *model.Segment, ctx *Context) bool {
	if key := &ctx.attrs[0]; key.kind == attrString {
		if s.Included.Has(key.s, key.head) {
			return true
		}
		if s.Excluded.Has(key.s, key.head) {
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
