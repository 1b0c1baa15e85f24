package model

import (
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/vexil-flags/vexil/core/murmur3"
)

const (
	maxKeyBytes = 256
	// MaxPrerequisiteDepth bounds prerequisite chains, and with them the evaluator's recursion.
	MaxPrerequisiteDepth = 32
	// MaxVariations and MaxRules bound a flag's variations and rules so that every index fits
	// the 13 bits the wasm ABI's packed result gives it (index + 1, 0 meaning none).
	MaxVariations = 1<<13 - 1
	MaxRules      = 1<<13 - 1
	// String lists at or above this length are matched through a hash set; shorter ones by a
	// scan of their heads (see Head), which is faster up to about this length.
	setThreshold = 16
	fullWeight   = 100000
)

const (
	sectionSnapshot = iota
	sectionFlags
	sectionSegments
)

// Parse reads and compiles a snapshot. The error is non-nil only when the snapshot as a whole
// is unusable (not JSON, no environment or version, unknown schemaVersion); a bad flag or
// segment is only rejected — marked Rejected and listed in Snapshot.Problems — and everything
// else loads.
func Parse(data []byte) (*Snapshot, error) {
	text := string(data)
	if !validJSON(text) {
		return nil, &Problem{Message: "snapshot is not valid JSON"}
	}
	p := newParser(text, true)
	s, err := p.parse()
	if p.misguessed {
		s, err = newParser(text, false).parse()
	}
	return s, err
}

func newParser(text string, guess bool) *parser {
	return &parser{data: text, guess: guess, s: &Snapshot{
		SchemaVersion: SchemaVersion,
		Attributes:    []string{TargetingKey},
		attrIndex:     map[string]int{TargetingKey: 0},
	}}
}

func (p *parser) parse() (*Snapshot, error) {
	var root val
	p.value(skipSpace(p.data, 0), &root)
	if !root.isObject() {
		return nil, &Problem{Message: "snapshot must be a JSON object"}
	}
	var flags, segments val
	var haveFlags, haveSegments, haveEnv, haveVersion bool
	var fatal *Problem
	flagsEnd := 0 // where the flags must end when guessed (see trailingSegments)
members:
	for it := p.iter(&root); it.next(); {
		v := &it.v
		switch it.name() {
		case "schemaVersion":
			if n, ok := intValue(v); !ok || n != SchemaVersion {
				fatal = &Problem{Path: "schemaVersion", Message: "unsupported version " + p.raw(v) + ", this engine reads " + strconv.Itoa(SchemaVersion)}
			}
		case "environment":
			env := ""
			if v.Type == gjson.String {
				env = p.text(v)
			}
			if env == "" {
				fatal = &Problem{Path: "environment", Message: "must be a non-empty string"}
			}
			p.s.Environment, haveEnv = env, true
		case "version":
			n, ok := intValue(v)
			if !ok || n < 0 {
				fatal = &Problem{Path: "version", Message: "must be an integer ≥ 0"}
			}
			p.s.Version, haveVersion = uint64(n), true
		case "hashedKeys":
			fatal = p.hashedKeys(v)
		case "flags":
			if p.guess && !haveFlags && !haveSegments && haveEnv && haveVersion && v.isArray() {
				if segs, end, ok := p.trailingSegments(v.pos); ok {
					flags, haveFlags, segments, haveSegments, flagsEnd = *v, true, segs, true, end
					break members
				}
			}
			p.measure(v)
			flags, haveFlags = *v, true
		case "segments":
			p.measure(v)
			segments, haveSegments = *v, true
		}
		if fatal != nil {
			break
		}
	}
	switch {
	case fatal != nil:
		return nil, fatal
	case !haveEnv:
		return nil, &Problem{Path: "environment", Message: "required"}
	case !haveVersion:
		return nil, &Problem{Path: "version", Message: "required"}
	case haveFlags && !flags.isArray():
		return nil, &Problem{Path: "flags", Message: "must be an array"}
	case haveSegments && !segments.isArray():
		return nil, &Problem{Path: "segments", Message: "must be an array"}
	}

	// Segments first: flag clauses resolve segment keys as they compile.
	p.s.segmentIndex = make(map[string]int, max(segments.n, 0))
	p.section = sectionSegments
	if haveSegments {
		if segments.n > 0 {
			p.s.Segments = make([]Segment, 0, segments.n)
		}
		for it := p.iter(&segments); it.next(); {
			p.segment(&it.v)
		}
	}
	n := flags.n
	if flagsEnd != 0 {
		n = (flagsEnd-flags.pos)/512 + 1 // not counted: a guess that needs no reallocation for flags this large
	}
	p.s.flagIndex = make(map[string]int, max(n, 0))
	p.section = sectionFlags
	p.index = 0
	if haveFlags {
		if n > 0 {
			p.s.Flags = make([]Flag, 0, n)
		}
		it := p.iter(&flags)
		for it.next() {
			p.flag(&it.v)
		}
		if flagsEnd != 0 && it.i != flagsEnd {
			p.misguessed = true // there is more between the flags and the segments
			return nil, nil
		}
		if len(p.s.Flags) == 0 {
			p.s.Flags = nil // as when none were counted
		}
	}
	p.resolvePrerequisites()
	for i := range p.s.Flags {
		f := &p.s.Flags[i]
		f.Static = !f.Rejected && (!f.Enabled || len(f.Prerequisites) == 0 && !f.Schedule.Set &&
			len(f.Targets) == 0 && len(f.Rules) == 0 && f.PercentageOfTime < 0 && f.Fallthrough.Rollout == nil)
	}
	sort.SliceStable(p.s.Problems, func(i, j int) bool {
		a, b := p.s.Problems[i], p.s.Problems[j]
		return a.section < b.section || a.section == b.section && a.index < b.index
	})
	return p.s, nil
}

type parser struct {
	s    *Snapshot
	data string // the snapshot text
	// guess allows trailingSegments; misguessed says its guess proved wrong, and that the
	// snapshot must be read again without it.
	guess, misguessed bool
	section           int
	index             int  // index of the flag or segment being parsed
	rejected          bool // the current flag or segment has a problem
	// done records, by nesting depth, the object or array an iterator last read to its end, so
	// that the iterator over its parent continues there instead of skipping it again.
	done [maxDone]struct{ pos, end int }

	// Lists under construction, and the blocks their final copies are carved from.
	strs     list[string]
	nums     list[float64]
	ints     list[int]
	variants list[Variation]
	targets  list[Target]
	prereqs  list[Prerequisite]
	rules    list[Rule]
	clauses  list[Clause]
	weights  list[WeightedVariation]
	rollouts block[Rollout]
	exps     block[Experiment]

	regexps map[string]*Regex // compiled clause regexps by source: safe to share
	// unescaped holds the strings with escapes: values and iterators hold only offsets, so
	// that reading them stores no pointers (and runs no write barriers).
	unescaped []string
}

const maxDone = 16

// list builds short slices: elements are pushed onto a shared scratch stack (nested lists of
// the same type stack up) and the finished list is copied into a block shared with other
// lists, so each costs no allocation of its own. A list is returned with its capacity at its
// length: appending to it copies it rather than overwrite its neighbour.
type list[T any] struct {
	scratch []T
	block   []T
}

func (l *list[T]) mark() int       { return len(l.scratch) }
func (l *list[T]) push(x T)        { l.scratch = append(l.scratch, x) }
func (l *list[T]) since(m int) []T { return l.scratch[m:] }

// take returns the elements pushed since mark m as a new slice (nil when there are none) and
// pops them.
func (l *list[T]) take(m int) []T {
	n := len(l.scratch) - m
	if n == 0 {
		return nil
	}
	if n > cap(l.block)-len(l.block) {
		l.block = make([]T, 0, max(n, blockLen))
	}
	start := len(l.block)
	l.block = append(l.block, l.scratch[m:]...)
	l.scratch = l.scratch[:m] // not cleared: what it still refers to is in the snapshot
	return l.block[start:len(l.block):len(l.block)]
}

// appendTaken appends the elements pushed since mark m to dst, as take.
func appendTaken[T any](l *list[T], dst []T, m int) []T {
	if dst == nil {
		return l.take(m)
	}
	dst = append(dst, l.since(m)...)
	l.scratch = l.scratch[:m]
	return dst
}

const blockLen = 128

// block hands out structs carved from shared blocks.
type block[T any] struct{ block []T }

func (b *block[T]) new() *T {
	if len(b.block) == cap(b.block) {
		b.block = make([]T, 0, blockLen)
	}
	b.block = b.block[:len(b.block)+1]
	return &b.block[len(b.block)-1]
}

func (p *parser) problem(at *path, msg string) {
	p.rejected = true
	p.s.Problems = append(p.s.Problems, Problem{Path: at.String(), Message: msg, section: p.section, index: p.index})
}

func (p *parser) intern(name string) int {
	if id, ok := p.s.attrIndex[name]; ok {
		return id
	}
	p.s.Attributes = append(p.s.Attributes, name)
	p.s.attrIndex[name] = len(p.s.Attributes) - 1
	return len(p.s.Attributes) - 1
}

// hashedKeys reads {"salt": "..."}: the snapshot's target and segment keys are HashKey(salt, key).
func (p *parser) hashedKeys(v *val) *Problem {
	if !v.isObject() {
		return &Problem{Path: "hashedKeys", Message: "must be an object"}
	}
	salt, have := "", false
	for it := p.iter(v); it.next(); {
		if it.name() == "salt" {
			if it.v.Type != gjson.String {
				return &Problem{Path: "hashedKeys.salt", Message: "must be a string"}
			}
			salt, have = p.text(&it.v), true
		}
	}
	if !have {
		return &Problem{Path: "hashedKeys.salt", Message: "required"}
	}
	p.s.HashedKeys, p.s.KeySalt = true, salt
	return nil
}

// --- reading the snapshot text ---
//
// The text has passed validJSON, so the scanner below trusts its structure. gjson's
// Result.ForEach measures each nested object and array before handing it over, and again at
// every level of nesting, so deep bytes were scanned many times; here an object or array is
// only located, and its end is learnt by reading it, or by skipping it when it is kept to be
// read later (a flag's rules wait for its variations). Scalars come out as gjson decodes them:
// escaped strings through gjson itself, numbers through strconv.ParseFloat as gjson does.

// val is one JSON value of the snapshot.
type val struct {
	Type  gjson.Type
	c     byte    // first byte: '{' or '[' tells an object from an array
	pos   int     // offset of the first byte
	end   int     // offset after the value; 0 while unknown (objects and arrays)
	n     int     // arrays measured by parser.measure: the number of elements, else -1
	depth int     // nesting depth: 0 for the snapshot
	u     int     // String with escapes: its unescaped text is parser.unescaped[u-1]
	Num   float64 // Number
}

// text returns the contents of a String value, unescaped.
func (p *parser) text(v *val) string {
	if v.u != 0 {
		return p.unescaped[v.u-1]
	}
	return p.data[v.pos+1 : v.end-1]
}

// name returns the current member's key, unescaped.
func (it *iter) name() string {
	if it.ku != 0 {
		return it.p.unescaped[it.ku-1]
	}
	return it.p.data[it.kpos+1 : it.kend-1]
}

func (v *val) isObject() bool { return v.Type == gjson.JSON && v.c == '{' }
func (v *val) isArray() bool  { return v.Type == gjson.JSON && v.c == '[' }

func skipSpace(d string, i int) int {
	for i < len(d) && d[i] <= ' ' {
		i++
	}
	return i
}

// stringEnd returns the offset after the closing quote of the string whose contents start at
// i, and whether the string has escapes.
func stringEnd(d string, i int) (int, bool) {
	if i = quoteOrBackslash(d, i); i < len(d) && d[i] == '"' {
		return i + 1, false
	}
	return escapedStringEnd(d, i)
}

// escapedStringEnd is stringEnd from the first backslash at i.
func escapedStringEnd(d string, i int) (int, bool) {
	esc := false
	for {
		i = quoteOrBackslash(d, i)
		if i >= len(d) {
			return len(d), esc // not reached: the text is valid
		}
		if d[i] == '"' {
			return i + 1, esc
		}
		esc = true
		i += 2 // the backslash and the escaped byte; \uXXXX goes on with its digits
	}
}

// load64 reads d[i:i+8] as a little-endian word, for the scans below that test eight bytes at
// once. The compiler merges the byte loads into one.
func load32(d string, i int) uint32 {
	b := d[i : i+4]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func load64(d string, i int) uint64 {
	b := d[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// closingQuote returns the offset of the quote that closes the string whose contents start at
// i, or len(d). It looks for quotes eight bytes at a time and tells an escaped one by the
// backslashes before it.
func closingQuote(d string, i int) int {
	for {
		for ; i+8 <= len(d); i += 8 {
			w := load64(d, i)
			q := w ^ (ones * '"')
			if m := (q - ones) &^ q & highs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
		}
		for ; i < len(d) && d[i] != '"'; i++ {
		}
		if i >= len(d) {
			return len(d) // not reached: the text is valid
		}
	found:
		// The quote closes the string unless an odd run of backslashes precedes it; the run
		// ends at the opening quote at the latest.
		k := i - 1
		for d[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i
		}
		i++
	}
}

// quoteOrBackslash returns the offset of the first '"' or '\\' at or after i, or len(d). It
// tests eight bytes at a time.
func quoteOrBackslash(d string, i int) int {
	for ; i+8 <= len(d); i += 8 {
		w := load64(d, i)
		q := w ^ (ones * '"')
		s := w ^ (ones * '\\')
		// The lowest byte flagged is the first zero byte of q or s: a borrow only
		// flags bytes above a zero byte.
		if m := ((q-ones)&^q | (s-ones)&^s) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(d); i++ {
		if c := d[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

// unescape unescapes the string d[i:end], as gjson does, into p.unescaped and returns its
// index there plus one.
func (p *parser) unescape(i, end int) int {
	p.unescaped = append(p.unescaped, gjson.Parse(p.data[i:end]).Str)
	return len(p.unescaped)
}

// skip returns the offset after the object or array at i and how many commas separate its
// elements.
func skip(d string, i int) (end, commas int) {
	depth := 0
	for ; i < len(d); i++ {
		switch d[i] {
		case '"':
			i = closingQuote(d, i+1)
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, commas
			}
		case ',':
			if depth == 1 {
				commas++
			}
		}
	}
	return i, commas
}

// value reads the value starting at i into v.
func (p *parser) value(i int, v *val) {
	d := p.data
	if i >= len(d) {
		*v = val{}
		return
	}
	v.c, v.pos, v.end, v.n, v.u, v.Num = d[i], i, 0, -1, 0, 0
	switch v.c {
	case '{', '[':
		v.Type = gjson.JSON
	case '"':
		end, esc := stringEnd(d, i+1)
		v.Type, v.end = gjson.String, end
		if esc {
			v.u = p.unescape(i, end)
		}
	case 't':
		v.Type, v.end = gjson.True, i+4
	case 'f':
		v.Type, v.end = gjson.False, i+5
	case 'n':
		v.Type, v.end = gjson.Null, i+4
	default:
		j, digits := i, true
		for ; j < len(d); j++ {
			c := d[j]
			if c <= ' ' || c == ',' || c == ']' || c == '}' {
				break
			}
			if c < '0' || c > '9' {
				digits = false
			}
		}
		v.Type, v.end = gjson.Number, j
		if digits && j-i <= 15 {
			// Up to 15 decimal digits convert exactly: the same float ParseFloat returns.
			var n int64
			for k := i; k < j; k++ {
				n = n*10 + int64(d[k]-'0')
			}
			v.Num = float64(n)
		} else {
			v.Num, _ = strconv.ParseFloat(d[i:j], 64)
		}
	}
}

// end returns the offset after v.
func (p *parser) end(v *val) int {
	if v.end == 0 {
		if v.depth < maxDone && p.done[v.depth].pos == v.pos && p.done[v.depth].end > v.pos {
			v.end = p.done[v.depth].end
		} else {
			v.end, _ = skip(p.data, v.pos)
		}
	}
	return v.end
}

// measure finds the end of an object or array kept for later, and counts an array's elements.
func (p *parser) measure(v *val) {
	if v.Type != gjson.JSON || v.end != 0 {
		return
	}
	var commas int
	v.end, commas = skip(p.data, v.pos)
	if v.c == '[' {
		if p.data[skipSpace(p.data, v.pos+1)] == ']' {
			v.n = 0
		} else {
			v.n = commas + 1
		}
	}
}

// raw returns the text of v, as gjson's Result.Raw.
func (p *parser) raw(v *val) string { return p.data[v.pos:p.end(v)] }

// iter iterates the members of an object or the elements of an array:
//
//	for it := p.iter(v); it.next(); { it.name(), it.n, it.v ... }
type iter struct {
	p     *parser
	at    int  // the object or array
	depth int  // its nesting depth
	i     int  // where to continue
	obj   bool // iterating an object's members
	n     int  // index of the current member or element
	kpos  int  // the current member's key is the string d[kpos:kend]
	kend  int
	ku    int // as val.u, for the key
	v     val // the current member's or element's value
}

func (p *parser) iter(v *val) iter {
	return iter{p: p, at: v.pos, depth: v.depth, i: v.pos + 1, obj: v.c == '{', n: -1}
}

func (it *iter) next() bool {
	d := it.p.data
	i := it.i
	if it.n >= 0 {
		if i = it.v.end; i == 0 {
			i = it.p.end(&it.v)
		}
	}
	for d[i] <= ' ' || d[i] == ',' {
		i++
	}
	if d[i] == '}' || d[i] == ']' {
		it.i = i + 1
		if it.depth < maxDone {
			it.p.done[it.depth].pos, it.p.done[it.depth].end = it.at, i+1
		}
		return false
	}
	it.n++
	if it.obj {
		end, esc := stringEnd(d, i+1)
		it.kpos, it.kend, it.ku = i, end, 0
		if esc {
			it.ku = it.p.unescape(i, end)
		}
		for i = end; d[i] <= ' ' || d[i] == ':'; i++ {
		}
	}
	it.p.value(i, &it.v)
	it.v.depth = it.depth + 1
	return true
}

// trailingSegments serves the layout the daemon writes, with "segments" the last member of
// the snapshot, right after "flags". Segments must be compiled before flags, so flags coming
// first would have to be skipped, a scan of nearly the whole snapshot, to reach them. Instead
// this reads the last member backwards from the end of the text. If it is an array named
// "segments" it is returned, with the offset where the value before it ends: the guess is
// that this value is the flags array starting at flagsPos, which the caller confirms once
// it has read the flags, or else reads the snapshot again the plain way. It gives up when the
// last value reaches back further than an eighth of the way to the flags.
func (p *parser) trailingSegments(flagsPos int) (segments val, flagsEnd int, ok bool) {
	d := p.data
	back := func(i int) int { // the last non-space offset at or before i
		for i > flagsPos && d[i] <= ' ' {
			i--
		}
		return i
	}
	i := back(len(d) - 1) // the snapshot's closing brace
	i = back(i - 1)
	if i <= flagsPos || d[i] != ']' {
		return val{}, 0, false
	}
	end := i + 1
	start := openingBracket(d, i, end-(end-flagsPos)/8)
	if start <= flagsPos {
		return val{}, 0, false
	}
	if i = back(start - 1); d[i] != ':' {
		return val{}, 0, false
	}
	if i = back(i - 1); d[i] != '"' {
		return val{}, 0, false
	}
	k := openingQuote(d, i)
	if k <= flagsPos {
		return val{}, 0, false
	}
	name := d[k+1 : i]
	if strings.IndexByte(name, '\\') >= 0 {
		name = gjson.Parse(d[k : i+1]).Str
	}
	if name != "segments" {
		return val{}, 0, false
	}
	if i = back(k - 1); i <= flagsPos || d[i] != ',' {
		return val{}, 0, false
	}
	return val{Type: gjson.JSON, c: '[', pos: start, end: end, n: -1, depth: 1}, back(i-1) + 1, true
}

// openingBracket returns the offset of the '[' or '{' that opens the array or object closed
// at i, or -1 when it lies before limit.
func openingBracket(d string, i, limit int) int {
	depth := 0
	for ; i >= limit && i >= 0; i-- {
		switch d[i] {
		case '"':
			i = openingQuote(d, i)
		case ']', '}':
			depth++
		case '[', '{':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// openingQuote returns the offset of the quote that opens the string closed by the quote at i.
// Inside a string every quote is escaped, that is preceded by an odd run of backslashes, and
// the opening quote follows no backslash.
func openingQuote(d string, i int) int {
	for j := strings.LastIndexByte(d[:i], '"'); j >= 0; j = strings.LastIndexByte(d[:j], '"') {
		k := j - 1
		for k >= 0 && d[k] == '\\' {
			k--
		}
		if (j-1-k)%2 == 0 {
			return j
		}
	}
	return -1
}

// --- field readers: each reports its own problem and says whether the value was good ---

func intValue(v *val) (int64, bool) {
	if v.Type != gjson.Number || v.Num != math.Trunc(v.Num) || math.Abs(v.Num) > 1<<53 {
		return 0, false
	}
	return int64(v.Num), true
}

func (p *parser) str(v *val, at *path) (string, bool) {
	if v.Type != gjson.String {
		p.problem(at, "must be a string")
		return "", false
	}
	return p.text(v), true
}

func (p *parser) key(v *val, at *path) string {
	s, ok := p.str(v, at)
	switch {
	case !ok:
	case s == "":
		p.problem(at, "must not be empty")
	case len(s) > maxKeyBytes:
		p.problem(at, "longer than "+strconv.Itoa(maxKeyBytes)+" bytes")
	}
	return s
}

func (p *parser) boolean(v *val, at *path) bool {
	if v.Type != gjson.True && v.Type != gjson.False {
		p.problem(at, "must be true or false")
	}
	return v.Type == gjson.True
}

func (p *parser) intIn(v *val, at *path, lo, hi int64) int64 {
	n, ok := intValue(v)
	if !ok || n < lo || n > hi {
		p.problem(at, "must be an integer from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
		return lo
	}
	return n
}

func (p *parser) time(v *val, at *path) int64 {
	s, ok := p.str(v, at)
	if !ok {
		return 0
	}
	ms, ok := ParseTime(s)
	if !ok {
		p.problem(at, "invalid RFC 3339 timestamp "+quote(s))
	}
	return ms
}

func (p *parser) strings(v *val, at *path) []string {
	if !v.isArray() {
		p.problem(at, "must be an array of strings")
		return nil
	}
	m := p.strs.mark()
	for it := p.iter(v); it.next(); {
		eat := at.elem("", it.n)
		if s, ok := p.str(&it.v, &eat); ok {
			p.strs.push(s)
		}
	}
	return p.strs.take(m)
}

func (p *parser) array(v *val, at *path) bool {
	if !v.isArray() {
		p.problem(at, "must be an array")
		return false
	}
	return true
}

func (p *parser) object(v *val, at *path) bool {
	if !v.isObject() {
		p.problem(at, "must be an object")
		return false
	}
	return true
}

// --- segments ---

func (p *parser) segment(v *val) {
	at := path{field: "segments", index: p.index}
	p.rejected = false
	seg := Segment{}
	var haveKey bool
	if p.object(v, &at) {
		for it := p.iter(v); it.next(); {
			v, fat := &it.v, at.at(it.name())
			switch it.name() {
			case "key":
				seg.Key, haveKey = p.key(v, &fat), true
			case "description":
				seg.Description, _ = p.str(v, &fat)
			case "included":
				seg.Included = NewStringList(p.strings(v, &fat))
			case "excluded":
				seg.Excluded = NewStringList(p.strings(v, &fat))
			case "rules":
				if p.array(v, &fat) {
					m := p.rules.mark()
					for rt := p.iter(v); rt.next(); {
						rat := fat.elem("", rt.n)
						p.rules.push(p.rule(&rt.v, &rat, nil))
					}
					seg.Rules = appendTaken(&p.rules, seg.Rules, m)
				}
			}
		}
	}
	if !haveKey && v.isObject() {
		kat := at.at("key")
		p.problem(&kat, "required")
	}
	if first, dup := p.s.segmentIndex[seg.Key]; dup && haveKey {
		kat := at.at("key")
		p.problem(&kat, "duplicate key "+quote(seg.Key)+", first at segments["+strconv.Itoa(first)+"]")
	} else if haveKey {
		p.s.segmentIndex[seg.Key] = p.index
	}
	seg.Rejected = p.rejected
	p.s.Segments = append(p.s.Segments, seg)
	p.index++
}

// --- flags ---

func (p *parser) flag(v *val) {
	at := path{field: "flags", index: p.index}
	p.rejected = false
	// The flag is built in place: Parse sized p.s.Flags for all of them.
	if n := len(p.s.Flags); n < cap(p.s.Flags) {
		p.s.Flags = p.s.Flags[:n+1] // zeroed by make
	} else {
		p.s.Flags = append(p.s.Flags, Flag{})
	}
	f := &p.s.Flags[len(p.s.Flags)-1]
	f.OffVariation, f.PercentageOfTime = -1, -1
	var haveKey, haveFallthrough, haveVariations, haveOff bool
	var havePrereqs, haveTargets, haveRules, haveExperiment bool
	var ft, rules, targets, prereqs, experiment val
	if p.object(v, &at) {
		for it := p.iter(v); it.next(); {
			v, fat := &it.v, at.at(it.name())
			switch it.name() {
			case "key":
				f.Key, haveKey = p.key(v, &fat), true
			case "type":
				s, _ := p.str(v, &fat)
				t, ok := parseFlagType(s)
				if !ok && v.Type == gjson.String {
					p.problem(&fat, "unknown flag type "+quote(s))
				}
				f.Type = t
			case "description":
				f.Description, _ = p.str(v, &fat)
			case "owner":
				f.Owner, _ = p.str(v, &fat)
			case "tags":
				f.Tags = p.strings(v, &fat)
			case "createdAt":
				f.CreatedAt = p.time(v, &fat)
			case "updatedAt":
				f.UpdatedAt = p.time(v, &fat)
			case "expiresAt":
				f.ExpiresAt = p.time(v, &fat)
			case "clientSide":
				f.ClientSide = p.boolean(v, &fat)
			case "enabled":
				f.Enabled = p.boolean(v, &fat)
			case "salt":
				f.Salt, _ = p.str(v, &fat)
			case "variations":
				haveVariations = true
				p.variations(f, v, &fat)
			case "offVariation":
				f.OffVariation, haveOff = int(p.intIn(v, &fat, 0, math.MaxInt32)), true
			case "prerequisites":
				p.measure(v)
				prereqs, havePrereqs = *v, true
			case "schedule":
				f.Schedule = Schedule{Set: true, NotBefore: math.MinInt64, NotAfter: math.MaxInt64}
				if p.object(v, &fat) {
					for st := p.iter(v); st.next(); {
						sat := fat.at(st.name())
						switch st.name() {
						case "notBefore":
							f.Schedule.NotBefore = p.time(&st.v, &sat)
						case "notAfter":
							f.Schedule.NotAfter = p.time(&st.v, &sat)
						}
					}
				}
			case "targets":
				p.measure(v)
				targets, haveTargets = *v, true
			case "rules":
				p.measure(v)
				rules, haveRules = *v, true
			case "fallthrough":
				p.measure(v)
				ft, haveFallthrough = *v, true
			case "percentageOfTime":
				f.PercentageOfTime = int32(p.intIn(v, &fat, 0, fullWeight))
			case "experiment":
				p.measure(v)
				experiment, haveExperiment = *v, true
			}
		}
	}
	if !v.isObject() {
		p.addFlag(f, false)
		return
	}
	if !haveKey {
		kat := at.at("key")
		p.problem(&kat, "required")
	}
	if !haveVariations {
		vat := at.at("variations")
		p.problem(&vat, "required")
	}
	if f.Salt == "" {
		f.Salt = f.Key
	}
	// Fields that refer to variations or other fields are read once those are known.
	n := len(f.Variations)
	if n > MaxVariations {
		vat := at.at("variations")
		p.problem(&vat, "at most "+strconv.Itoa(MaxVariations)+" variations, found "+strconv.Itoa(n))
	}
	if haveOff {
		oat := at.at("offVariation")
		p.variationIndex(f.OffVariation, n, &oat)
	}
	if havePrereqs {
		pat := at.at("prerequisites")
		if p.array(&prereqs, &pat) {
			m := p.prereqs.mark()
			for it := p.iter(&prereqs); it.next(); {
				eat := pat.elem("", it.n)
				p.prereqs.push(p.prerequisite(&it.v, &eat))
			}
			f.Prerequisites = p.prereqs.take(m)
		}
	}
	if haveTargets {
		tat := at.at("targets")
		if p.array(&targets, &tat) {
			m, keys := p.targets.mark(), 0
			for it := p.iter(&targets); it.next(); {
				eat := tat.elem("", it.n)
				t := p.target(&it.v, &eat, n)
				keys += len(t.Values)
				p.targets.push(t)
			}
			f.Targets = p.targets.take(m)
			if keys > 0 {
				all, vars := make([]string, 0, keys), make([]int32, 0, keys)
				for i := range f.Targets {
					for _, k := range f.Targets[i].Values {
						all, vars = append(all, k), append(vars, int32(f.Targets[i].Variation))
					}
				}
				f.targetKeys, f.targetVars = NewStringList(all), vars
			}
		}
	}
	if haveRules {
		rat := at.at("rules")
		if p.array(&rules, &rat) {
			m := p.rules.mark()
			var ids map[string]bool // rule ids seen, once there are many rules
			for it := p.iter(&rules); it.next(); {
				eat := rat.elem("", it.n)
				r := p.rule(&it.v, &eat, f)
				if r.ID != "" {
					before := p.rules.since(m)
					var dup bool
					if ids == nil && len(before) < 16 {
						for i := range before {
							if before[i].ID == r.ID {
								dup = true
								break
							}
						}
					} else {
						if ids == nil {
							ids = make(map[string]bool, len(before)+1)
							for i := range before {
								if before[i].ID != "" {
									ids[before[i].ID] = true
								}
							}
						}
						dup = ids[r.ID]
						ids[r.ID] = true
					}
					if dup {
						iat := eat.at("id")
						p.problem(&iat, "duplicate rule id "+quote(r.ID))
					}
				}
				p.rules.push(r)
			}
			f.Rules = p.rules.take(m)
			if len(f.Rules) > MaxRules {
				p.problem(&rat, "at most "+strconv.Itoa(MaxRules)+" rules, found "+strconv.Itoa(len(f.Rules)))
			}
		}
	}
	fat := at.at("fallthrough")
	if haveFallthrough {
		f.Fallthrough = p.serve(&ft, &fat, f, nil)
	} else {
		p.problem(&fat, "required")
	}
	if haveExperiment {
		eat := at.at("experiment")
		f.Experiment = p.experiment(&experiment, &eat, f)
	}
	p.addFlag(f, haveKey)
}

func (p *parser) target(v *val, at *path, n int) Target {
	t := Target{Variation: -1}
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			fat := at.at(it.name())
			switch it.name() {
			case "variation":
				t.Variation = p.variationIndex(int(p.intIn(&it.v, &fat, 0, math.MaxInt32)), n, &fat)
			case "values":
				t.Values = p.strings(&it.v, &fat)
			}
		}
	}
	if t.Variation < 0 && v.isObject() {
		vat := at.at("variation")
		p.problem(&vat, "required")
	}
	return t
}

// addFlag completes the flag at the end of p.s.Flags.
func (p *parser) addFlag(f *Flag, haveKey bool) {
	if first, dup := p.s.flagIndex[f.Key]; dup && haveKey {
		at := path{field: "flags", index: p.index}
		kat := at.at("key")
		p.problem(&kat, "duplicate key "+quote(f.Key)+", first at flags["+strconv.Itoa(first)+"]")
	} else if haveKey {
		p.s.flagIndex[f.Key] = p.index
	}
	f.Rejected = p.rejected
	p.index++
}

func parseFlagType(s string) (FlagType, bool) {
	for i, n := range flagTypeNames {
		if n == s {
			return FlagType(i), true
		}
	}
	return TypeRelease, false
}

func (p *parser) variations(f *Flag, v *val, at *path) {
	if !p.array(v, at) {
		return
	}
	i, m := 0, p.variants.mark()
	for it := p.iter(v); it.next(); {
		e := &it.v
		va := Variation{JSON: compactJSON(p.raw(e))}
		switch e.Type {
		case gjson.True, gjson.False:
			va.Kind, va.Bool = KindBool, e.Type == gjson.True
		case gjson.String:
			va.Kind, va.Str = KindString, p.text(e)
		case gjson.Number:
			va.Kind, va.Num = KindNumber, e.Num
		default:
			va.Kind = KindJSON
		}
		if i == 0 {
			f.Kind = va.Kind
		} else if va.Kind != f.Kind {
			eat := at.elem("", i)
			p.problem(&eat, "a "+va.Kind.String()+" among "+f.Kind.String()+" variations; all variations must be of one kind")
		}
		p.variants.push(va)
		i++
	}
	f.Variations = appendTaken(&p.variants, f.Variations, m)
	if i == 0 {
		p.problem(at, "needs at least one variation")
	}
}

func (p *parser) variationIndex(i, n int, at *path) int {
	if i >= n && n > 0 {
		p.problem(at, "variation "+strconv.Itoa(i)+" out of range (the flag has "+strconv.Itoa(n)+")")
	}
	return i
}

func (p *parser) prerequisite(v *val, at *path) Prerequisite {
	pr := Prerequisite{Flag: -1}
	var haveFlag, haveVariations bool
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			fat := at.at(it.name())
			switch it.name() {
			case "flag":
				pr.Key, haveFlag = p.key(&it.v, &fat), true
			case "variations":
				haveVariations = true
				if p.array(&it.v, &fat) {
					m := p.ints.mark()
					for et := p.iter(&it.v); et.next(); {
						eat := fat.elem("", et.n)
						p.ints.push(int(p.intIn(&et.v, &eat, 0, math.MaxInt32)))
					}
					pr.Variations = appendTaken(&p.ints, pr.Variations, m)
				}
			}
		}
	}
	if v.isObject() && !haveFlag {
		fat := at.at("flag")
		p.problem(&fat, "required")
	}
	if v.isObject() && !haveVariations {
		vat := at.at("variations")
		p.problem(&vat, "required")
	}
	return pr
}

// serveMembers holds a rule's "variation" and "rollout" members, read after its other fields.
type serveMembers struct {
	n    int // how many; when more than len(vals), serve reads them from the rule again
	key  [2]string
	vals [2]val
}

// serve reads the fallthrough's (members nil) or a rule's variation or rollout.
func (p *parser) serve(v *val, at *path, f *Flag, members *serveMembers) Serve {
	s := Serve{Variation: -1}
	var haveVariation bool
	read := func(k string, v *val) {
		fat := at.at(k)
		switch k {
		case "variation":
			haveVariation = true
			s.Variation = p.variationIndex(int(p.intIn(v, &fat, 0, math.MaxInt32)), len(f.Variations), &fat)
		case "rollout":
			s.Rollout = p.rollout(v, &fat, f)
		}
	}
	switch {
	case members == nil:
		if p.object(v, at) {
			for it := p.iter(v); it.next(); {
				read(it.name(), &it.v)
			}
		}
	case members.n <= len(members.vals):
		for i := 0; i < members.n; i++ {
			read(members.key[i], &members.vals[i])
		}
	default:
		for it := p.iter(v); it.next(); {
			read(it.name(), &it.v)
		}
	}
	switch {
	case !v.isObject():
	case s.Variation >= 0 && s.Rollout != nil:
		p.problem(at, "has both variation and rollout; serve one")
	case s.Variation < 0 && s.Rollout == nil && !haveVariation:
		if members == nil {
			p.problem(at, "needs a variation or a rollout")
		} else {
			p.problem(at, "rule needs a variation or a rollout")
		}
	}
	return s
}

func (p *parser) rollout(v *val, at *path, f *Flag) *Rollout {
	r := p.rollouts.new()
	r.BucketByName = TargetingKey
	var sum int64
	var haveWeights bool
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			fat := at.at(it.name())
			switch it.name() {
			case "bucketBy":
				if s, ok := p.str(&it.v, &fat); ok {
					if s == "" {
						p.problem(&fat, "must not be empty")
					}
					r.BucketByName = s
				}
			case "salt":
				r.Salt, _ = p.str(&it.v, &fat)
			case "variations":
				haveWeights = true
				if p.array(&it.v, &fat) {
					m := p.weights.mark()
					for et := p.iter(&it.v); et.next(); {
						eat := fat.elem("", et.n)
						wv := p.weighted(&et.v, &eat, f)
						sum += int64(wv.Weight)
						p.weights.push(wv)
					}
					r.Variations = appendTaken(&p.weights, r.Variations, m)
				}
			}
		}
	}
	if !v.isObject() {
		return nil
	}
	wat := at.at("variations")
	switch {
	case !haveWeights:
		p.problem(&wat, "required")
	case len(r.Variations) == 0:
		p.problem(&wat, "needs at least one variation")
	case sum != fullWeight:
		p.problem(&wat, "weights add up to "+strconv.FormatInt(sum, 10)+", want 100000")
	}
	r.BucketBy = p.intern(r.BucketByName)
	if r.Salt == "" {
		r.Salt = f.Salt // rules are read after the flag's own fields, so this is set
	}
	var buf [32]byte
	r.Prefix = murmur3.NewPrefix(string(append(append(buf[:0], r.Salt...), '.')))
	return r
}

func (p *parser) weighted(v *val, at *path, f *Flag) WeightedVariation {
	wv := WeightedVariation{Variation: -1}
	var haveVariation, haveWeight bool
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			fat := at.at(it.name())
			switch it.name() {
			case "variation":
				haveVariation = true
				wv.Variation = p.variationIndex(int(p.intIn(&it.v, &fat, 0, math.MaxInt32)), len(f.Variations), &fat)
			case "weight":
				haveWeight = true
				wv.Weight = int32(p.intIn(&it.v, &fat, 0, fullWeight))
			}
		}
	}
	if v.isObject() && wv.Variation < 0 && !haveVariation {
		vat := at.at("variation")
		p.problem(&vat, "required")
	}
	if v.isObject() && !haveWeight {
		wat := at.at("weight")
		p.problem(&wat, "required")
	}
	return wv
}

// rule reads a flag rule (f set) or a segment rule (f nil: no serve, no segment clauses).
func (p *parser) rule(v *val, at *path, f *Flag) Rule {
	r := Rule{Serve: Serve{Variation: -1}}
	var serve serveMembers
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			v, fat := &it.v, at.at(it.name())
			switch it.name() {
			case "id":
				r.ID, _ = p.str(v, &fat)
			case "description":
				r.Description, _ = p.str(v, &fat)
			case "match":
				s, _ := p.str(v, &fat)
				switch s {
				case "all":
				case "any":
					r.MatchAny = true
				default:
					if v.Type == gjson.String {
						p.problem(&fat, "must be \"all\" or \"any\", not "+quote(s))
					}
				}
			case "clauses":
				if p.array(v, &fat) {
					m := p.clauses.mark()
					for ct := p.iter(v); ct.next(); {
						cat := fat.elem("", ct.n)
						p.clauses.push(p.clause(&ct.v, &cat, f == nil))
					}
					r.Clauses = appendTaken(&p.clauses, r.Clauses, m)
				}
			case "variation", "rollout":
				if f != nil {
					if serve.n < len(serve.vals) {
						p.measure(v)
						serve.key[serve.n], serve.vals[serve.n] = it.name(), *v
					}
					serve.n++
				}
			}
		}
	}
	if f != nil && v.isObject() {
		r.Serve = p.serve(v, at, f, &serve)
	}
	return r
}

func (p *parser) experiment(v *val, at *path, f *Flag) *Experiment {
	e := p.exps.new()
	e.Key = f.Key
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			v, fat := &it.v, at.at(it.name())
			switch it.name() {
			case "key":
				e.Key = p.key(v, &fat)
			case "hypothesis":
				e.Hypothesis, _ = p.str(v, &fat)
			case "controlVariation":
				e.ControlVariation = p.variationIndex(int(p.intIn(v, &fat, 0, math.MaxInt32)), len(f.Variations), &fat)
			case "metrics":
				e.Metrics = p.strings(v, &fat)
			case "startedAt":
				e.StartedAt = p.time(v, &fat)
			case "endedAt":
				e.EndedAt = p.time(v, &fat)
			}
		}
	}
	return e
}

// --- clauses ---

func (p *parser) clause(v *val, at *path, inSegment bool) Clause {
	c := Clause{}
	var haveOp, haveOpKey, haveValues bool
	var values val
	if p.object(v, at) {
		for it := p.iter(v); it.next(); {
			v, fat := &it.v, at.at(it.name())
			switch it.name() {
			case "attribute":
				c.Attribute, _ = p.str(v, &fat)
			case "op":
				haveOpKey = true
				s, ok := p.str(v, &fat)
				if !ok {
					continue
				}
				op, known := ParseOperator(s)
				if !known {
					p.problem(&fat, "unknown operator "+quote(s))
					continue
				}
				c.Op, haveOp = op, true
			case "negate":
				c.Negate = p.boolean(v, &fat)
			case "values":
				p.measure(v)
				values, haveValues = *v, true
			}
		}
	}
	if !v.isObject() || !haveOp {
		if v.isObject() && !haveOpKey {
			oat := at.at("op")
			p.problem(&oat, "required")
		}
		return c
	}
	if c.Op.IsSegmentOp() {
		if inSegment {
			oat := at.at("op")
			p.problem(&oat, "segment rules cannot use "+c.Op.String())
			return c
		}
		if c.Attribute == "" {
			c.Attribute = TargetingKey
		}
	} else if c.Attribute == "" {
		aat := at.at("attribute")
		p.problem(&aat, "required")
	}
	c.Attr = p.intern(c.Attribute)
	c.Flip = c.Negate != (c.Op == OpNotEquals || c.Op == OpNotIn || c.Op == OpNotInSegment)
	vt := c.Op.valueType()
	if vt == valuesNone {
		return c
	}
	vat := at.at("values")
	if !haveValues || !values.isArray() {
		p.problem(&vat, "must be an array")
		return c
	}
	n, ms, mn := 0, p.strs.mark(), p.nums.mark()
	for it := p.iter(&values); it.next(); {
		eat := vat.elem("", n)
		p.clauseValue(&c, vt, &it.v, &eat)
		n++
	}
	c.Strings, c.Numbers = p.strs.take(ms), p.nums.take(mn)
	// An empty list is allowed (it matches nothing); equals compares with exactly one value.
	if (c.Op == OpEquals || c.Op == OpNotEquals) && n != 1 {
		p.problem(&vat, c.Op.String()+" takes exactly one value")
	}
	if vt == valuesScalar {
		c.Set = NewStringList(c.Strings)
	}
	c.Bound = bound(&c)
	c.cmpMask = cmpMasks[c.Op]
	return c
}

// cmpMasks gives each semver operator's Clause.cmpMask.
var cmpMasks = [opCount]uint8{OpSemverEq: 0b010, OpSemverLt: 0b001, OpSemverLte: 0b011, OpSemverGt: 0b100, OpSemverGte: 0b110}

// bound computes Clause.Bound.
func bound(c *Clause) float64 {
	lowest := c.Op == OpGt || c.Op == OpGte || c.Op == OpAfter
	b := math.Inf(1)
	if !lowest {
		b = math.Inf(-1)
	}
	take := func(v float64) {
		if lowest == (v < b) {
			b = v
		}
	}
	for _, v := range c.Numbers {
		take(v)
	}
	for _, t := range c.Times {
		take(float64(t))
	}
	return b
}

func (p *parser) clauseValue(c *Clause, vt valueType, e *val, at *path) {
	switch vt {
	case valuesScalar:
		switch e.Type {
		case gjson.String:
			p.strs.push(p.text(e))
		case gjson.Number:
			p.nums.push(e.Num)
		case gjson.True, gjson.False:
			c.Bools = append(c.Bools, e.Type == gjson.True)
		default:
			p.problem(at, "must be a string, number or boolean")
		}
	case valuesString:
		if s, ok := p.str(e, at); ok {
			p.strs.push(s)
		}
	case valuesRegex:
		if s, ok := p.str(e, at); ok {
			re := p.regexps[s]
			if re == nil {
				var err error
				if re, err = CompileRegex(s); err != nil {
					p.problem(at, "invalid regex "+quote(s)+": "+err.Error())
					return
				}
				if p.regexps == nil {
					p.regexps = make(map[string]*Regex)
				}
				p.regexps[s] = re
			}
			c.Regexps = append(c.Regexps, re)
		}
	case valuesNumber:
		if e.Type != gjson.Number {
			p.problem(at, "must be a number")
			return
		}
		p.nums.push(e.Num)
	case valuesTime:
		if e.Type == gjson.Number {
			ms, ok := intValue(e)
			if !ok {
				p.problem(at, "must be whole epoch milliseconds")
			}
			c.Times = append(c.Times, ms)
			return
		}
		c.Times = append(c.Times, p.time(e, at))
	case valuesSemver:
		if s, ok := p.str(e, at); ok {
			sv, ok := ParseSemver(s)
			if !ok {
				p.problem(at, "invalid semantic version "+quote(s))
			}
			c.Versions = append(c.Versions, sv)
		}
	case valuesSegment:
		s, ok := p.str(e, at)
		if !ok {
			return
		}
		i, found := p.s.segmentIndex[s]
		switch {
		case !found:
			p.problem(at, "unknown segment "+quote(s))
		case p.s.Segments[i].Rejected:
			p.problem(at, "segment "+quote(s)+" was rejected")
		default:
			c.Segments = append(c.Segments, i)
		}
	}
}

// compactJSON drops insignificant whitespace so every host reports a value with the same bytes.
func compactJSON(raw string) string {
	needs := false
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return raw
	}
	out := make([]byte, 0, len(raw))
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			out = append(out, c)
			if c == '\\' && i+1 < len(raw) {
				i++
				out = append(out, raw[i])
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
