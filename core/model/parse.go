package model

import (
	"math"
	"regexp"
	"sort"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/vexil-flags/vexil/core/murmur3"
)

const (
	maxKeyBytes = 256
	// MaxPrerequisiteDepth bounds prerequisite chains, and with them the evaluator's recursion.
	MaxPrerequisiteDepth = 32
	// Fixed-size string lists at or above this length are matched through a hash set.
	setThreshold = 8
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
	if !gjson.ValidBytes(data) {
		return nil, &Problem{Message: "snapshot is not valid JSON"}
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return nil, &Problem{Message: "snapshot must be a JSON object"}
	}
	p := &parser{s: &Snapshot{
		SchemaVersion: SchemaVersion,
		Attributes:    []string{TargetingKey},
		attrIndex:     map[string]int{TargetingKey: 0},
	}}
	var flags, segments gjson.Result
	var haveEnv, haveVersion bool
	var fatal *Problem
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "schemaVersion":
			if n, ok := intValue(v); !ok || n != SchemaVersion {
				fatal = &Problem{Path: "schemaVersion", Message: "unsupported version " + v.Raw + ", this engine reads " + strconv.Itoa(SchemaVersion)}
			}
		case "environment":
			if v.Type != gjson.String || v.Str == "" {
				fatal = &Problem{Path: "environment", Message: "must be a non-empty string"}
			}
			p.s.Environment, haveEnv = v.Str, true
		case "version":
			n, ok := intValue(v)
			if !ok || n < 0 {
				fatal = &Problem{Path: "version", Message: "must be an integer ≥ 0"}
			}
			p.s.Version, haveVersion = uint64(n), true
		case "flags":
			flags = v
		case "segments":
			segments = v
		}
		return fatal == nil
	})
	switch {
	case fatal != nil:
		return nil, fatal
	case !haveEnv:
		return nil, &Problem{Path: "environment", Message: "required"}
	case !haveVersion:
		return nil, &Problem{Path: "version", Message: "required"}
	case flags.Exists() && !flags.IsArray():
		return nil, &Problem{Path: "flags", Message: "must be an array"}
	case segments.Exists() && !segments.IsArray():
		return nil, &Problem{Path: "segments", Message: "must be an array"}
	}

	// Segments first: flag clauses resolve segment keys as they compile.
	p.s.segmentIndex = make(map[string]int)
	p.section = sectionSegments
	segments.ForEach(func(_, v gjson.Result) bool {
		p.segment(v)
		return true
	})
	p.s.flagIndex = make(map[string]int)
	p.section = sectionFlags
	p.index = 0
	flags.ForEach(func(_, v gjson.Result) bool {
		p.flag(v)
		return true
	})
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
	s        *Snapshot
	section  int
	index    int  // index of the flag or segment being parsed
	rejected bool // the current flag or segment has a problem
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

// --- field readers: each reports its own problem and says whether the value was good ---

func intValue(v gjson.Result) (int64, bool) {
	if v.Type != gjson.Number || v.Num != math.Trunc(v.Num) || math.Abs(v.Num) > 1<<53 {
		return 0, false
	}
	return int64(v.Num), true
}

func (p *parser) str(v gjson.Result, at *path) (string, bool) {
	if v.Type != gjson.String {
		p.problem(at, "must be a string")
		return "", false
	}
	return v.Str, true
}

func (p *parser) key(v gjson.Result, at *path) string {
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

func (p *parser) boolean(v gjson.Result, at *path) bool {
	if v.Type != gjson.True && v.Type != gjson.False {
		p.problem(at, "must be true or false")
	}
	return v.Type == gjson.True
}

func (p *parser) intIn(v gjson.Result, at *path, lo, hi int64) int64 {
	n, ok := intValue(v)
	if !ok || n < lo || n > hi {
		p.problem(at, "must be an integer from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
		return lo
	}
	return n
}

func (p *parser) time(v gjson.Result, at *path) int64 {
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

func (p *parser) strings(v gjson.Result, at *path) []string {
	if !v.IsArray() {
		p.problem(at, "must be an array of strings")
		return nil
	}
	var out []string
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		if s, ok := p.str(e, at.elem("", i)); ok {
			out = append(out, s)
		}
		i++
		return true
	})
	return out
}

func (p *parser) array(v gjson.Result, at *path, each func(e gjson.Result, at *path)) {
	if !v.IsArray() {
		p.problem(at, "must be an array")
		return
	}
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		each(e, at.elem("", i))
		i++
		return true
	})
}

func (p *parser) object(v gjson.Result, at *path, field func(k string, v gjson.Result, at *path)) {
	if !v.IsObject() {
		p.problem(at, "must be an object")
		return
	}
	v.ForEach(func(k, e gjson.Result) bool {
		field(k.Str, e, at.at(k.Str))
		return true
	})
}

// --- segments ---

func (p *parser) segment(v gjson.Result) {
	at := (*path)(nil).elem("segments", p.index)
	p.rejected = false
	seg := Segment{}
	var haveKey bool
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "key":
			seg.Key, haveKey = p.key(v, at), true
		case "description":
			seg.Description, _ = p.str(v, at)
		case "included":
			seg.Included = set(p.strings(v, at))
		case "excluded":
			seg.Excluded = set(p.strings(v, at))
		case "rules":
			p.array(v, at, func(e gjson.Result, at *path) {
				seg.Rules = append(seg.Rules, p.rule(e, at, nil))
			})
		}
	})
	if !haveKey && v.IsObject() {
		p.problem(at.at("key"), "required")
	}
	if first, dup := p.s.segmentIndex[seg.Key]; dup && haveKey {
		p.problem(at.at("key"), "duplicate key "+quote(seg.Key)+", first at segments["+strconv.Itoa(first)+"]")
	} else if haveKey {
		p.s.segmentIndex[seg.Key] = p.index
	}
	seg.Rejected = p.rejected
	p.s.Segments = append(p.s.Segments, seg)
	p.index++
}

func set(keys []string) map[string]struct{} {
	m := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return m
}

// --- flags ---

func (p *parser) flag(v gjson.Result) {
	at := (*path)(nil).elem("flags", p.index)
	p.rejected = false
	f := Flag{OffVariation: -1, PercentageOfTime: -1}
	var haveKey, haveFallthrough, haveVariations bool
	var ft gjson.Result
	var rules, targets, prereqs gjson.Result
	var offAt *path
	var experiment gjson.Result
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "key":
			f.Key, haveKey = p.key(v, at), true
		case "type":
			s, _ := p.str(v, at)
			t, ok := parseFlagType(s)
			if !ok && v.Type == gjson.String {
				p.problem(at, "unknown flag type "+quote(s))
			}
			f.Type = t
		case "description":
			f.Description, _ = p.str(v, at)
		case "owner":
			f.Owner, _ = p.str(v, at)
		case "tags":
			f.Tags = p.strings(v, at)
		case "createdAt":
			f.CreatedAt = p.time(v, at)
		case "updatedAt":
			f.UpdatedAt = p.time(v, at)
		case "expiresAt":
			f.ExpiresAt = p.time(v, at)
		case "clientSide":
			f.ClientSide = p.boolean(v, at)
		case "enabled":
			f.Enabled = p.boolean(v, at)
		case "salt":
			f.Salt, _ = p.str(v, at)
		case "variations":
			haveVariations = true
			p.variations(&f, v, at)
		case "offVariation":
			f.OffVariation, offAt = int(p.intIn(v, at, 0, math.MaxInt32)), at
		case "prerequisites":
			prereqs = v
		case "schedule":
			f.Schedule = Schedule{Set: true, NotBefore: math.MinInt64, NotAfter: math.MaxInt64}
			p.object(v, at, func(k string, v gjson.Result, at *path) {
				switch k {
				case "notBefore":
					f.Schedule.NotBefore = p.time(v, at)
				case "notAfter":
					f.Schedule.NotAfter = p.time(v, at)
				}
			})
		case "targets":
			targets = v
		case "rules":
			rules = v
		case "fallthrough":
			ft, haveFallthrough = v, true
		case "percentageOfTime":
			f.PercentageOfTime = int32(p.intIn(v, at, 0, fullWeight))
		case "experiment":
			experiment = v
		}
	})
	if !v.IsObject() {
		p.addFlag(f, false)
		return
	}
	if !haveKey {
		p.problem(at.at("key"), "required")
	}
	if !haveVariations {
		p.problem(at.at("variations"), "required")
	}
	if f.Salt == "" {
		f.Salt = f.Key
	}
	// Fields that refer to variations or other fields are read once those are known.
	n := len(f.Variations)
	if offAt != nil {
		p.variationIndex(f.OffVariation, n, offAt)
	}
	if prereqs.Exists() {
		p.array(prereqs, at.at("prerequisites"), func(e gjson.Result, at *path) {
			f.Prerequisites = append(f.Prerequisites, p.prerequisite(e, at))
		})
	}
	if targets.Exists() {
		f.targets = make(map[string]int)
		p.array(targets, at.at("targets"), func(e gjson.Result, at *path) {
			t := Target{Variation: -1}
			p.object(e, at, func(k string, v gjson.Result, at *path) {
				switch k {
				case "variation":
					t.Variation = p.variationIndex(int(p.intIn(v, at, 0, math.MaxInt32)), n, at)
				case "values":
					t.Values = p.strings(v, at)
				}
			})
			if t.Variation < 0 && e.IsObject() {
				p.problem(at.at("variation"), "required")
			}
			for _, key := range t.Values {
				if _, seen := f.targets[key]; !seen {
					f.targets[key] = t.Variation
				}
			}
			f.Targets = append(f.Targets, t)
		})
	}
	if rules.Exists() {
		ids := map[string]bool{}
		p.array(rules, at.at("rules"), func(e gjson.Result, at *path) {
			r := p.rule(e, at, &f)
			if r.ID != "" {
				if ids[r.ID] {
					p.problem(at.at("id"), "duplicate rule id "+quote(r.ID))
				}
				ids[r.ID] = true
			}
			f.Rules = append(f.Rules, r)
		})
	}
	if haveFallthrough {
		f.Fallthrough = p.serve(ft, at.at("fallthrough"), &f, true)
	} else {
		p.problem(at.at("fallthrough"), "required")
	}
	if experiment.Exists() {
		f.Experiment = p.experiment(experiment, at.at("experiment"), &f)
	}
	p.addFlag(f, haveKey)
}

func (p *parser) addFlag(f Flag, haveKey bool) {
	at := (*path)(nil).elem("flags", p.index)
	if first, dup := p.s.flagIndex[f.Key]; dup && haveKey {
		p.problem(at.at("key"), "duplicate key "+quote(f.Key)+", first at flags["+strconv.Itoa(first)+"]")
	} else if haveKey {
		p.s.flagIndex[f.Key] = p.index
	}
	f.Rejected = p.rejected
	p.s.Flags = append(p.s.Flags, f)
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

func (p *parser) variations(f *Flag, v gjson.Result, at *path) {
	if !v.IsArray() {
		p.problem(at, "must be an array")
		return
	}
	i := 0
	v.ForEach(func(_, e gjson.Result) bool {
		va := Variation{JSON: compactJSON(e.Raw)}
		switch e.Type {
		case gjson.True, gjson.False:
			va.Kind, va.Bool = KindBool, e.Type == gjson.True
		case gjson.String:
			va.Kind, va.Str = KindString, e.Str
		case gjson.Number:
			va.Kind, va.Num = KindNumber, e.Num
		default:
			va.Kind = KindJSON
		}
		if i == 0 {
			f.Kind = va.Kind
		} else if va.Kind != f.Kind {
			p.problem(at.elem("", i), "a "+va.Kind.String()+" among "+f.Kind.String()+" variations; all variations must be of one kind")
		}
		f.Variations = append(f.Variations, va)
		i++
		return true
	})
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

func (p *parser) prerequisite(v gjson.Result, at *path) Prerequisite {
	pr := Prerequisite{Flag: -1}
	var haveFlag, haveVariations bool
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "flag":
			pr.Key, haveFlag = p.key(v, at), true
		case "variations":
			haveVariations = true
			p.array(v, at, func(e gjson.Result, at *path) {
				pr.Variations = append(pr.Variations, int(p.intIn(e, at, 0, math.MaxInt32)))
			})
		}
	})
	if v.IsObject() && !haveFlag {
		p.problem(at.at("flag"), "required")
	}
	if v.IsObject() && !haveVariations {
		p.problem(at.at("variations"), "required")
	}
	return pr
}

// serve reads a rule's or the fallthrough's variation or rollout.
func (p *parser) serve(v gjson.Result, at *path, f *Flag, alone bool) Serve {
	s := Serve{Variation: -1}
	read := func(k string, v gjson.Result, at *path) {
		switch k {
		case "variation":
			s.Variation = p.variationIndex(int(p.intIn(v, at, 0, math.MaxInt32)), len(f.Variations), at)
		case "rollout":
			s.Rollout = p.rollout(v, at, f)
		}
	}
	if alone {
		p.object(v, at, read)
	} else {
		v.ForEach(func(k, e gjson.Result) bool {
			read(k.Str, e, at.at(k.Str))
			return true
		})
	}
	switch {
	case !v.IsObject():
	case s.Variation >= 0 && s.Rollout != nil:
		p.problem(at, "has both variation and rollout; serve one")
	case s.Variation < 0 && s.Rollout == nil && !v.Get("variation").Exists():
		if alone {
			p.problem(at, "needs a variation or a rollout")
		} else {
			p.problem(at, "rule needs a variation or a rollout")
		}
	}
	return s
}

func (p *parser) rollout(v gjson.Result, at *path, f *Flag) *Rollout {
	r := &Rollout{BucketByName: TargetingKey}
	var sum int64
	var weightsAt *path
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "bucketBy":
			if s, ok := p.str(v, at); ok {
				if s == "" {
					p.problem(at, "must not be empty")
				}
				r.BucketByName = s
			}
		case "salt":
			r.Salt, _ = p.str(v, at)
		case "variations":
			weightsAt = at
			p.array(v, at, func(e gjson.Result, at *path) {
				wv := WeightedVariation{Variation: -1}
				p.object(e, at, func(k string, v gjson.Result, at *path) {
					switch k {
					case "variation":
						wv.Variation = p.variationIndex(int(p.intIn(v, at, 0, math.MaxInt32)), len(f.Variations), at)
					case "weight":
						wv.Weight = int32(p.intIn(v, at, 0, fullWeight))
					}
				})
				if e.IsObject() && wv.Variation < 0 && !e.Get("variation").Exists() {
					p.problem(at.at("variation"), "required")
				}
				if e.IsObject() && !e.Get("weight").Exists() {
					p.problem(at.at("weight"), "required")
				}
				sum += int64(wv.Weight)
				r.Variations = append(r.Variations, wv)
			})
		}
	})
	if !v.IsObject() {
		return nil
	}
	switch {
	case weightsAt == nil:
		p.problem(at.at("variations"), "required")
	case len(r.Variations) == 0:
		p.problem(weightsAt, "needs at least one variation")
	case sum != fullWeight:
		p.problem(weightsAt, "weights add up to "+strconv.FormatInt(sum, 10)+", want 100000")
	}
	r.BucketBy = p.intern(r.BucketByName)
	if r.Salt == "" {
		r.Salt = f.Salt // rules are read after the flag's own fields, so this is set
	}
	r.Prefix = murmur3.NewPrefix(r.Salt + ".")
	return r
}

// rule reads a flag rule (f set) or a segment rule (f nil: no serve, no segment clauses).
func (p *parser) rule(v gjson.Result, at *path, f *Flag) Rule {
	r := Rule{Serve: Serve{Variation: -1}}
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "id":
			r.ID, _ = p.str(v, at)
		case "description":
			r.Description, _ = p.str(v, at)
		case "match":
			s, _ := p.str(v, at)
			switch s {
			case "all":
			case "any":
				r.MatchAny = true
			default:
				if v.Type == gjson.String {
					p.problem(at, "must be \"all\" or \"any\", not "+quote(s))
				}
			}
		case "clauses":
			p.array(v, at, func(e gjson.Result, at *path) {
				r.Clauses = append(r.Clauses, p.clause(e, at, f == nil))
			})
		}
	})
	if f != nil && v.IsObject() {
		r.Serve = p.serve(v, at, f, false)
	}
	return r
}

func (p *parser) experiment(v gjson.Result, at *path, f *Flag) *Experiment {
	e := &Experiment{Key: f.Key}
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "key":
			e.Key = p.key(v, at)
		case "hypothesis":
			e.Hypothesis, _ = p.str(v, at)
		case "controlVariation":
			e.ControlVariation = p.variationIndex(int(p.intIn(v, at, 0, math.MaxInt32)), len(f.Variations), at)
		case "metrics":
			e.Metrics = p.strings(v, at)
		case "startedAt":
			e.StartedAt = p.time(v, at)
		case "endedAt":
			e.EndedAt = p.time(v, at)
		}
	})
	return e
}

// --- clauses ---

func (p *parser) clause(v gjson.Result, at *path, inSegment bool) Clause {
	c := Clause{}
	var haveOp bool
	var values gjson.Result
	p.object(v, at, func(k string, v gjson.Result, at *path) {
		switch k {
		case "attribute":
			c.Attribute, _ = p.str(v, at)
		case "op":
			s, ok := p.str(v, at)
			if !ok {
				return
			}
			op, known := ParseOperator(s)
			if !known {
				p.problem(at, "unknown operator "+quote(s))
				return
			}
			c.Op, haveOp = op, true
		case "negate":
			c.Negate = p.boolean(v, at)
		case "values":
			values = v
		}
	})
	if !v.IsObject() || !haveOp {
		if v.IsObject() && !v.Get("op").Exists() {
			p.problem(at.at("op"), "required")
		}
		return c
	}
	if c.Op.IsSegmentOp() {
		if inSegment {
			p.problem(at.at("op"), "segment rules cannot use "+c.Op.String())
			return c
		}
		if c.Attribute == "" {
			c.Attribute = TargetingKey
		}
	} else if c.Attribute == "" {
		p.problem(at.at("attribute"), "required")
	}
	c.Attr = p.intern(c.Attribute)
	vt := c.Op.valueType()
	if vt == valuesNone {
		return c
	}
	vat := at.at("values")
	if !values.IsArray() {
		p.problem(vat, "must be an array")
		return c
	}
	n := 0
	values.ForEach(func(_, e gjson.Result) bool {
		p.clauseValue(&c, vt, e, vat.elem("", n))
		n++
		return true
	})
	// An empty list is allowed (it matches nothing); equals compares with exactly one value.
	if (c.Op == OpEquals || c.Op == OpNotEquals) && n != 1 {
		p.problem(vat, c.Op.String()+" takes exactly one value")
	}
	if len(c.Strings) >= setThreshold {
		c.StringSet = set(c.Strings)
	}
	return c
}

func (p *parser) clauseValue(c *Clause, vt valueType, e gjson.Result, at *path) {
	switch vt {
	case valuesScalar:
		switch e.Type {
		case gjson.String:
			c.Strings = append(c.Strings, e.Str)
		case gjson.Number:
			c.Numbers = append(c.Numbers, e.Num)
		case gjson.True, gjson.False:
			c.Bools = append(c.Bools, e.Type == gjson.True)
		default:
			p.problem(at, "must be a string, number or boolean")
		}
	case valuesString:
		if s, ok := p.str(e, at); ok {
			c.Strings = append(c.Strings, s)
		}
	case valuesRegex:
		if s, ok := p.str(e, at); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				p.problem(at, "invalid regex "+quote(s)+": "+err.Error())
				return
			}
			c.Regexps = append(c.Regexps, re)
		}
	case valuesNumber:
		if e.Type != gjson.Number {
			p.problem(at, "must be a number")
			return
		}
		c.Numbers = append(c.Numbers, e.Num)
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
