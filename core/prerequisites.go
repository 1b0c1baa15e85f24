package core

import "github.com/vexil-flags/vexil/core/model"

// prerequisitesMet evaluates each prerequisite with the same context. One is met when it serves
// a listed variation and is really on: not DISABLED, not failing its own prerequisites, no error.
// Cycles and chains deeper than model.MaxPrerequisiteDepth are rejected at load, so the
// recursion is bounded.
func (e *Evaluator) prerequisitesMet(f *model.Flag, ctx *Context, depth int) bool {
	for pi := range f.Prerequisites {
		pr := &f.Prerequisites[pi]
		variation, _, reason, _ := e.eval(pr.Flag, ctx, depth+1)
		if reason == ReasonDisabled || reason == ReasonPrerequisiteFailed || reason == ReasonError {
			return false
		}
		met := false
		for _, v := range pr.Variations {
			if int32(v) == variation {
				met = true
				break
			}
		}
		if !met {
			return false
		}
	}
	return true
}
