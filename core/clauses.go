package core

import (
	"strings"

	"github.com/vexil-flags/vexil/core/model"
)

// matchClause applies one clause. A missing attribute never matches, negated or not; only
// exists and the segment operators look past that. The operator is switched on once, and each
// case loops over the pre-parsed values of its own type: this is the hottest code in the engine.
func (e *Evaluator) matchClause(c *model.Clause, ctx *Context) bool {
	a := &ctx.attrs[c.Attr]
	var m bool
	switch c.Op {
	case model.OpEquals, model.OpNotEquals, model.OpIn, model.OpNotIn:
		switch a.kind {
		case attrAbsent:
			return false
		case attrString:
			m = hasString(c, a.s)
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
				if hasString(c, s) {
					m = true
					break
				}
			}
		}
		if c.Op == model.OpNotEquals || c.Op == model.OpNotIn {
			m = !m
		}
	case model.OpLt, model.OpLte, model.OpGt, model.OpGte:
		if a.kind == attrAbsent {
			return false
		}
		m = a.kind == attrNumber && compareNumber(c, a.n)
	case model.OpInSegment, model.OpNotInSegment:
		for _, si := range c.Segments {
			if e.inSegment(&e.snap.Segments[si], ctx) {
				m = true
				break
			}
		}
		m = m != (c.Op == model.OpNotInSegment)
	case model.OpExists:
		m = a.kind != attrAbsent
	default:
		switch a.kind {
		case attrAbsent:
			return false
		case attrString:
			m = matchStringAttr(c, a)
		case attrNumber:
			m = (c.Op == model.OpBefore || c.Op == model.OpAfter) && compareTime(c, a.n)
		case attrList:
			for _, s := range a.list {
				if matchString(c, s) {
					m = true
					break
				}
			}
		}
	}
	return m != c.Negate
}

func hasString(c *model.Clause, s string) bool {
	if c.StringSet != nil {
		_, ok := c.StringSet[s]
		return ok
	}
	for _, v := range c.Strings {
		if v == s {
			return true
		}
	}
	return false
}

func compareNumber(c *model.Clause, n float64) bool {
	for _, v := range c.Numbers {
		switch c.Op {
		case model.OpLt:
			if n < v {
				return true
			}
		case model.OpLte:
			if n <= v {
				return true
			}
		case model.OpGt:
			if n > v {
				return true
			}
		case model.OpGte:
			if n >= v {
				return true
			}
		}
	}
	return false
}

// compareTime compares epoch milliseconds as floats: exact for every real value, and defined
// for huge ones, where an int64 conversion would differ between platforms.
func compareTime(c *model.Clause, n float64) bool {
	for _, v := range c.Times {
		if c.Op == model.OpBefore && n < float64(v) || c.Op == model.OpAfter && n > float64(v) {
			return true
		}
	}
	return false
}

// matchString applies the string operators (contains, startsWith, endsWith, matches, before,
// after, semver*) to one string: a string attribute or one element of a list.
func matchString(c *model.Clause, s string) bool {
	switch c.Op {
	case model.OpEquals, model.OpNotEquals, model.OpIn, model.OpNotIn:
		return hasString(c, s)
	case model.OpContains:
		for _, v := range c.Strings {
			if strings.Contains(s, v) {
				return true
			}
		}
	case model.OpStartsWith:
		for _, v := range c.Strings {
			if len(s) >= len(v) && s[:len(v)] == v {
				return true
			}
		}
	case model.OpEndsWith:
		for _, v := range c.Strings {
			if len(s) >= len(v) && s[len(s)-len(v):] == v {
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
			return compareTime(c, float64(t))
		}
	case model.OpSemverEq, model.OpSemverLt, model.OpSemverLte, model.OpSemverGt, model.OpSemverGte:
		if v, ok := model.ParseSemver(s); ok {
			return matchSemver(c, v)
		}
	}
	return false
}

// matchStringAttr is matchString for a string attribute, whose parsed version is cached in the
// context so that a request parses it once however many flags compare it.
func matchStringAttr(c *model.Clause, a *attr) bool {
	if c.Op < model.OpSemverEq || c.Op > model.OpSemverGte {
		return matchString(c, a.s)
	}
	if a.ver == verUnknown {
		a.ver = verInvalid
		if v, ok := model.ParseSemver(a.s); ok {
			a.semver, a.ver = v, verValid
		}
	}
	return a.ver == verValid && matchSemver(c, a.semver)
}

func matchSemver(c *model.Clause, v model.Semver) bool {
	for _, w := range c.Versions {
		cmp := model.CompareSemver(v, w)
		var m bool
		switch c.Op {
		case model.OpSemverEq:
			m = cmp == 0
		case model.OpSemverLt:
			m = cmp < 0
		case model.OpSemverLte:
			m = cmp <= 0
		case model.OpSemverGt:
			m = cmp > 0
		case model.OpSemverGte:
			m = cmp >= 0
		}
		if m {
			return true
		}
	}
	return false
}
