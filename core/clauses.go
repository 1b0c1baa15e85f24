package core

import (
	"strings"

	"github.com/vexil-flags/vexil/core/model"
)

// matchClause applies one clause. A missing attribute never matches, negated or not; only
// exists and the segment operators look past that.
func (e *Evaluator) matchClause(c *model.Clause, ctx *Context) bool {
	switch c.Op {
	case model.OpInSegment, model.OpNotInSegment:
		in := false
		for _, si := range c.Segments {
			if e.inSegment(&e.snap.Segments[si], ctx) {
				in = true
				break
			}
		}
		return in != (c.Op == model.OpNotInSegment) != c.Negate
	case model.OpExists:
		return (ctx.attrs[c.Attr].kind != attrAbsent) != c.Negate
	}
	a := &ctx.attrs[c.Attr]
	var m bool
	switch a.kind {
	case attrAbsent:
		return false
	case attrString:
		m = matchStringAttr(c, a)
	case attrNumber:
		m = matchNumber(c, a.n)
	case attrBool:
		m = matchBool(c, a.b)
	case attrList:
		for _, s := range a.list {
			if matchString(c, s) {
				m = true
				break
			}
		}
	}
	if c.Op == model.OpNotEquals || c.Op == model.OpNotIn {
		m = !m
	}
	return m != c.Negate
}

// matchString reports whether a string attribute matches any of the clause's values.
func matchString(c *model.Clause, s string) bool {
	switch c.Op {
	case model.OpEquals, model.OpNotEquals, model.OpIn, model.OpNotIn:
		if c.StringSet != nil {
			_, ok := c.StringSet[s]
			return ok
		}
		for _, v := range c.Strings {
			if v == s {
				return true
			}
		}
	case model.OpContains:
		for _, v := range c.Strings {
			if strings.Contains(s, v) {
				return true
			}
		}
	case model.OpStartsWith:
		for _, v := range c.Strings {
			if strings.HasPrefix(s, v) {
				return true
			}
		}
	case model.OpEndsWith:
		for _, v := range c.Strings {
			if strings.HasSuffix(s, v) {
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
			return matchTime(c, t)
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

func matchNumber(c *model.Clause, n float64) bool {
	for _, v := range c.Numbers {
		var m bool
		switch c.Op {
		case model.OpEquals, model.OpNotEquals, model.OpIn, model.OpNotIn:
			m = n == v
		case model.OpLt:
			m = n < v
		case model.OpLte:
			m = n <= v
		case model.OpGt:
			m = n > v
		case model.OpGte:
			m = n >= v
		}
		if m {
			return true
		}
	}
	if c.Op == model.OpBefore || c.Op == model.OpAfter {
		// Compare as floats: exact for every real epoch-ms value, and defined for huge ones
		// where an int64 conversion would differ between platforms.
		for _, v := range c.Times {
			if c.Op == model.OpBefore && n < float64(v) || c.Op == model.OpAfter && n > float64(v) {
				return true
			}
		}
	}
	return false
}

func matchBool(c *model.Clause, b bool) bool {
	for _, v := range c.Bools {
		if v == b {
			return true
		}
	}
	return false
}

func matchTime(c *model.Clause, t int64) bool {
	for _, v := range c.Times {
		if c.Op == model.OpBefore && t < v || c.Op == model.OpAfter && t > v {
			return true
		}
	}
	return false
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
