package model

import (
	"math/bits"
	"regexp/syntax"
	"strconv"
	"unicode/utf8"
)

// MaxRegexInsts bounds the program a `matches` clause's regex compiles to. Matching runs in
// time proportional to the text times the program and in a fixed amount of stack, so the bound
// keeps every evaluation cheap and allocation-free. Ordinary patterns compile to tens of
// instructions; counted repetitions of classes (`[a-z]{1,200}`) are what reach it.
const MaxRegexInsts = 1024

// Regex is a compiled RE2 pattern (Go's regexp syntax) for `matches` clauses. It answers one
// question, whether the pattern matches anywhere in a string, which is all a clause asks, with
// a set-of-states simulation that never allocates and never backtracks: matching is linear in
// the text whatever the pattern. The standard regexp package allocates its matching machines
// from a pool, and on TinyGo an evaluation path that may allocate pays for shadow-stack
// bookkeeping on every call, regexes or not.
//
// A Regex is immutable and safe for concurrent use.
type Regex struct {
	src      string
	prog     *syntax.Prog
	words    int  // uint64 words in a set of instruction indices
	anchored bool // the program can only match at the start of the text
}

// MaxRegexGroups bounds the parentheses in a pattern. Parsing and compiling a regex recurse as
// deep as its groups nest, and a TinyGo module's stack is fixed: bounding groups (and with them
// the nesting, since RE2 syntax cannot nest repetitions without a group) keeps hostile patterns
// from overflowing it.
const MaxRegexGroups = 100

// CompileRegex compiles pattern with Go's regexp syntax (as regexp.Compile does), rejecting
// patterns with more than MaxRegexGroups parentheses or whose program would be longer than
// MaxRegexInsts. Both are checked before the parsed pattern is expanded, so a pattern like
// `(x{1,1000}){1,1000}` is refused without building it.
func CompileRegex(pattern string) (*Regex, error) {
	groups := 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++ // an escaped character, even an escaped parenthesis, opens no group
		case '(':
			// Parentheses inside a class count too: over-counting is safe.
			if groups++; groups > MaxRegexGroups {
				return nil, regexError("has more than " + strconv.Itoa(MaxRegexGroups) + " groups")
			}
		}
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if progSize(re) > MaxRegexInsts {
		return nil, errRegexTooLarge
	}
	flattenRepeats(re)
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	if len(prog.Inst) > MaxRegexInsts {
		return nil, errRegexTooLarge
	}
	return &Regex{
		src:      pattern,
		prog:     prog,
		words:    (len(prog.Inst) + 63) / 64,
		anchored: prog.StartCond()&syntax.EmptyBeginText != 0,
	}, nil
}

// progSize is at least the number of instructions syntax.Compile makes of re after Simplify
// (counted repetitions expanded), capped just above MaxRegexInsts so that it cannot overflow.
func progSize(re *syntax.Regexp) int {
	return min(instsOf(re)+2, MaxRegexInsts+1) // and the program's Fail and Match
}

func instsOf(re *syntax.Regexp) int {
	const over = MaxRegexInsts + 1
	switch re.Op {
	case syntax.OpLiteral:
		return max(len(re.Rune), 1)
	case syntax.OpCapture:
		return min(2+instsOf(re.Sub[0]), over)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		// A star of something that can match empty compiles as a quest of a plus.
		return min(2+instsOf(re.Sub[0]), over)
	case syntax.OpRepeat:
		// x{min,max} becomes max copies of x and one alternation per optional copy; x{min,}
		// becomes min copies and a star.
		sub := instsOf(re.Sub[0])
		if re.Max < 0 {
			return min((re.Min+1)*(sub+2), over)
		}
		return max(min(re.Max*(sub+1), over), 1)
	case syntax.OpConcat, syntax.OpAlternate:
		n := 1
		for _, sub := range re.Sub {
			n = min(n+instsOf(sub)+1, over)
		}
		return n
	}
	return 1
}

// flattenRepeats rewrites the counted repetitions in re as flat concatenations: x{2,4} as
// xx(?:x)?(?:x)?, x{2,} as xxx*. They match the same strings, which is all a clause asks, but
// Simplify would nest x{2,4} one level per optional copy, x(x(x)?)?, and compiling recurses
// through every level: about 1 KB of a TinyGo module's fixed stack each, so `[a-z]{1,300}`
// overflowed it. Flat, the recursion is only as deep as the groups nest.
func flattenRepeats(re *syntax.Regexp) {
	for _, sub := range re.Sub {
		flattenRepeats(sub)
	}
	if re.Op != syntax.OpRepeat {
		return
	}
	x := re.Sub[0]
	subs := make([]*syntax.Regexp, 0, max(re.Min, re.Max)+1)
	for range re.Min {
		subs = append(subs, x)
	}
	optional := func(op syntax.Op) {
		subs = append(subs, &syntax.Regexp{Op: op, Flags: re.Flags, Sub: []*syntax.Regexp{x}})
	}
	if re.Max < 0 {
		optional(syntax.OpStar)
	}
	for range re.Max - re.Min {
		optional(syntax.OpQuest)
	}
	*re = syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: subs}
	if len(subs) == 0 {
		re.Op = syntax.OpEmptyMatch
	}
}

type regexError string

func (e regexError) Error() string { return string(e) }

var errRegexTooLarge = regexError("compiles to more than " + strconv.Itoa(MaxRegexInsts) + " instructions")

// String returns the source pattern.
func (r *Regex) String() string { return r.src }

// noInst is no instruction.
const noInst = ^uint32(0)

// instSet is a set of instruction indices.
type instSet [MaxRegexInsts / 64]uint64

func (s *instSet) has(pc uint32) bool { return s[pc/64]&(1<<(pc%64)) != 0 }
func (s *instSet) add(pc uint32)      { s[pc/64] |= 1 << (pc % 64) }

// MatchString reports whether the pattern matches anywhere in s. It is a Thompson simulation:
// cur holds every instruction some thread has reached at position pos; each step moves the
// ones that consume the rune at pos into next. Invalid UTF-8 reads as U+FFFD one byte at a time,
// as in package regexp.
func (r *Regex) MatchString(s string) bool {
	var cur, next instSet
	k := r.words
	prev := rune(-1) // the rune before pos; -1 at the start of the text
	for pos := 0; ; {
		c, width := rune(-1), 0
		if pos < len(s) {
			c, width = rune(s[pos]), 1
			if c >= utf8.RuneSelf {
				c, width = utf8.DecodeRuneInString(s[pos:])
			}
		}
		if pos == 0 || !r.anchored {
			cur.add(uint32(r.prog.Start))
		}
		r.closure(&cur, syntax.EmptyOpContext(prev, c))
		clear(next[:k])
		live := false
		for w := 0; w < k; w++ {
			for m := cur[w]; m != 0; m &= m - 1 {
				inst := &r.prog.Inst[w*64+bits.TrailingZeros64(m)]
				var ok bool
				switch inst.Op {
				case syntax.InstMatch:
					return true
				case syntax.InstRune:
					ok = c >= 0 && inst.MatchRune(c)
				case syntax.InstRune1:
					ok = c == inst.Rune[0]
				case syntax.InstRuneAny:
					ok = c >= 0
				case syntax.InstRuneAnyNotNL:
					ok = c >= 0 && c != '\n'
				}
				if ok {
					next.add(inst.Out)
					live = true
				}
			}
		}
		if width == 0 || (!live && r.anchored) {
			return false
		}
		cur, prev, pos = next, c, pos+width
	}
}

// closure adds to set every instruction reachable from its members without consuming a rune,
// where the empty-width assertions that hold at this position are flag. Instructions still to
// follow are kept in a second set rather than a stack, so that the work space is fixed.
func (r *Regex) closure(set *instSet, flag syntax.EmptyOp) {
	var todo instSet
	k := r.words
	copy(todo[:k], set[:k])
	for w := 0; w < k; {
		if todo[w] == 0 {
			w++
			continue
		}
		pc := uint32(w*64 + bits.TrailingZeros64(todo[w]))
		todo[w] &= todo[w] - 1
		inst := &r.prog.Inst[pc]
		var to, also uint32 = noInst, noInst
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			to, also = inst.Out, inst.Arg
		case syntax.InstNop, syntax.InstCapture:
			to = inst.Out
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(inst.Arg)&^flag == 0 {
				to = inst.Out
			}
		}
		for _, to := range [2]uint32{to, also} {
			if to != noInst && !set.has(to) {
				set.add(to)
				todo.add(to)
				w = min(w, int(to/64))
			}
		}
	}
}
