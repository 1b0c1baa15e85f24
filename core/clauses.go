package core

import (
	"strings"

	"github.com/vexil-flags/vexil/core/model"
)

// matchRule applies a rule's clauses, all or any.
func (e *Evaluator) matchRule(rule *model.Rule, ctx *Context) bool {
	return e.matchClauses(rule.Clauses, rule.MatchAny, ctx)
}

// matchClauses applies clauses, all or any (one clause alone is its own match). This is the hottest code in the engine, so
// the clause loop and the operator switch share one function (no call per clause), each
// operator tests the common attribute kind first, and everything decidable at load time was
// decided there: string lists prepared for lookup (model.StringList), comparison values reduced
// to one bound, negations folded into Clause.Flip.
//
// A missing attribute never matches, negated or not; only exists and the segment operators
// look past that.
func (e *Evaluator) matchClauses(clauses []model.Clause, any bool, ctx *Context) bool {
	for ci := range clauses {
		c := &clauses[ci]
		a := &ctx.attrs[c.Attr]
		var m bool
		switch c.Op {
		case model.OpEquals, model.OpNotEquals, model.OpIn, model.OpNotIn:
			switch a.kind {
			case attrString:
				if c.Set.Hashed() {
					m = a.findHashed(&c.Set) >= 0
					break
				}
				// a.find, by hand: the head scan of a short list inlined
				for i, h := range c.Set.Heads() {
					if h == a.head && c.Set.EqualAt(i, a.s) {
						m = true
						break
					}
				}
			case attrAbsent:
				goto missing
			case attrNumber:
				for _, v := range c.Numbers {
					if a.n == v {
						m = true
						break
					}
				}
			case attrBool:
				for _, v := range c.Bools {
					if a.b == v {
						m = true
						break
					}
				}
			case attrList:
				for _, s := range a.list {
					if c.Set.IndexOf(s) >= 0 {
						m = true
						break
					}
				}
			}
		case model.OpStartsWith:
			if a.kind != attrString {
				goto other
			}
			for _, v := range c.Strings {
				if len(a.s) >= len(v) && model.Equal(a.s[:len(v)], v) {
					m = true
					break
				}
			}
		case model.OpContains:
			switch a.kind {
			case attrString:
				m = containsAny(a.s, c.Strings)
			case attrList:
				for _, s := range a.list {
					if containsAny(s, c.Strings) {
						m = true
						break
					}
				}
			case attrAbsent:
				goto missing
			}
		case model.OpEndsWith:
			if a.kind != attrString {
				goto other
			}
			for _, v := range c.Strings {
				if len(a.s) >= len(v) && model.Equal(a.s[len(a.s)-len(v):], v) {
					m = true
					break
				}
			}
		case model.OpLt, model.OpLte, model.OpGt, model.OpGte:
			switch a.kind {
			case attrNumber:
				m = compareBound(c, a.n)
			case attrAbsent:
				goto missing
			}
		case model.OpSemverEq, model.OpSemverLt, model.OpSemverLte, model.OpSemverGt, model.OpSemverGte:
			if a.kind != attrString {
				goto other
			}
			// The attribute's version is parsed once per request, however many clauses
			// compare it.
			if a.ver == verUnknown {
				a.parseSemver()
			}
			m = a.ver == verValid && matchSemver(c, &a.semver)
		case model.OpInSegment, model.OpNotInSegment:
			for _, si := range c.Segments {
				if e.inSegment(&e.snap.Segments[si], ctx) {
					m = true
					break
				}
			}
		case model.OpExists:
			m = a.kind != attrAbsent
		default:
			goto other
		}
		goto decided
	other: // the remaining operators, and the uncommon attribute kinds of the string operators
		switch a.kind {
		case attrAbsent:
			goto missing
		case attrString:
			m = matchString(c, a.s)
		case attrNumber:
			m = (c.Op == model.OpBefore || c.Op == model.OpAfter) && compareBound(c, a.n)
		case attrList:
			for _, s := range a.list {
				if matchString(c, s) {
					m = true
					break
				}
			}
		}
	decided:
		if m != c.Flip {
			if any {
				return true
			}
			continue
		}
	missing:
		if !any {
			return false
		}
	}
	return !any
}

// compareBound applies an ordering operator to a number (lt, lte, gt, gte) or epoch
// milliseconds (before, after), as floats: exact for every real value, and defined for huge
// ones, where an int64 conversion would differ between platforms.
func compareBound(c *model.Clause, n float64) bool {
	switch c.Op {
	case model.OpLt, model.OpBefore:
		return n < c.Bound
	case model.OpLte:
		return n <= c.Bound
	case model.OpGt, model.OpAfter:
		return n > c.Bound
	}
	return n >= c.Bound
}

// matchString applies the string operators other than equality and contains (startsWith,
// endsWith, matches, before, after, semver*) to one string: a string attribute or one element
// of a list.
func matchString(c *model.Clause, s string) bool {
	switch c.Op {
	case model.OpStartsWith:
		for _, v := range c.Strings {
			if len(s) >= len(v) && model.Equal(s[:len(v)], v) {
				return true
			}
		}
	case model.OpEndsWith:
		for _, v := range c.Strings {
			if len(s) >= len(v) && model.Equal(s[len(s)-len(v):], v) {
				return true
			}
		}
	case model.OpMatches:
		for _, re := range c.Regexps {
			if re.MatchString(s) {
				return true
			}
		}
	case model.OpBefore, model.OpAfter:
		if t, ok := model.ParseTime(s); ok {
			return compareBound(c, float64(t))
		}
	case model.OpSemverEq, model.OpSemverLt, model.OpSemverLte, model.OpSemverGt, model.OpSemverGte:
		if v, ok := model.ParseSemver(s); ok {
			return matchSemver(c, &v)
		}
	}
	return false
}

func matchSemver(c *model.Clause, v *model.Semver) bool {
	for i := range c.Versions {
		if c.Accepts(model.CompareSemver(v, &c.Versions[i])) {
			return true
		}
	}
	return false
}

// containsAny reports whether s contains any of subs. Attribute values are mostly short, where
// a byte loop beats strings.Contains's general search.
func containsAny(s string, subs []string) bool {
	for _, v := range subs {
		switch {
		case len(v) > len(s):
		case len(v) == 0:
			return true
		case len(s) > 32:
			if strings.Contains(s, v) {
				return true
			}
		default:
			for i, c := 0, v[0]; i <= len(s)-len(v); i++ {
				if s[i] == c && model.Equal(s[i:i+len(v)], v) {
					return true
				}
			}
		}
	}
	return false
}
