// Package model is Vexil's flag model: the types a snapshot compiles into, the JSON parser that
// builds them with gjson, and the preprocessing step that turns a parsed snapshot into an index
// the evaluator walks without lookups, parsing or allocation — flag keys resolved to indices,
// attribute names interned to small ids, clause values pre-parsed by type (numbers, times,
// versions, regexes compiled once, string sets hashed), rollout salts pre-hashed, and
// prerequisite cycles and dangling references rejected.
//
// The format is documented in ../SNAPSHOT.md and ../snapshot.schema.json. Nothing here uses
// encoding/json, fmt or reflection, so the package compiles with TinyGo.
package model

import (
	"github.com/vexil-flags/vexil/core/murmur3"
)

// SchemaVersion is the snapshot format version this package reads.
const SchemaVersion = 1

// TargetingKey is the attribute name of the context's targeting key. It is always attribute id 0.
const TargetingKey = "targetingKey"

// Snapshot is one environment's compiled flag state at one version. It is immutable once
// built and safe for concurrent readers.
type Snapshot struct {
	SchemaVersion int
	Environment   string
	Version       uint64
	// Flags in document order, rejected ones included (Flag.Rejected) so that a key of a
	// rejected flag is told apart from an unknown key.
	Flags    []Flag
	Segments []Segment
	// Attributes holds the interned attribute names; a clause or rollout refers to one by its
	// index. Attributes[0] is always TargetingKey. Only names the snapshot uses are interned.
	Attributes []string
	// Problems lists every validation problem, in document order.
	Problems []Problem
	// HashedKeys is set for a browser-safe snapshot: its individual targets and segment
	// included/excluded lists hold HashKey(KeySalt, key) rather than raw keys, and contexts
	// hash their targeting key the same way before looking it up (see HashKey).
	HashedKeys bool
	KeySalt    string

	flagIndex    map[string]int
	segmentIndex map[string]int
	attrIndex    map[string]int
}

// FlagIndex returns the index of the flag with key, or -1.
func (s *Snapshot) FlagIndex(key string) int {
	if i, ok := s.flagIndex[key]; ok {
		return i
	}
	return -1
}

// SegmentIndex returns the index of the segment with key, or -1.
func (s *Snapshot) SegmentIndex(key string) int {
	if i, ok := s.segmentIndex[key]; ok {
		return i
	}
	return -1
}

// AttributeID returns the interned id of an attribute name, or -1 when no clause or rollout
// of the snapshot uses it (so a context can drop it).
func (s *Snapshot) AttributeID(name string) int {
	if i, ok := s.attrIndex[name]; ok {
		return i
	}
	return -1
}

// Kind is the JSON kind shared by all variations of a flag.
type Kind uint8

const (
	KindBool Kind = iota
	KindString
	KindNumber
	KindJSON // object, array or null
)

var kindNames = [...]string{"boolean", "string", "number", "json"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// FlagType is a flag's lifecycle kind. It is informational: evaluation ignores it.
type FlagType uint8

const (
	TypeRelease FlagType = iota
	TypeExperiment
	TypeOps
	TypePermission
	TypeKillSwitch
)

var flagTypeNames = [...]string{"release", "experiment", "ops", "permission", "kill-switch"}

func (t FlagType) String() string {
	if int(t) < len(flagTypeNames) {
		return flagTypeNames[t]
	}
	return "unknown"
}

// Flag is a compiled flag.
type Flag struct {
	Key         string
	Type        FlagType
	Description string
	Owner       string
	Tags        []string
	// Timestamps in epoch milliseconds; 0 when absent.
	CreatedAt, UpdatedAt, ExpiresAt int64
	ClientSide                      bool
	Enabled                         bool

	Variations []Variation
	Kind       Kind
	// OffVariation is served when the flag is off; -1 serves the caller's default.
	OffVariation  int
	Prerequisites []Prerequisite
	Schedule      Schedule
	Targets       []Target
	Rules         []Rule
	Fallthrough   Serve
	// PercentageOfTime is the random gate in thousandths of a percent; -1 when absent.
	PercentageOfTime int32
	Experiment       *Experiment
	Salt             string

	// Rejected flags failed validation; evaluating one yields PARSE_ERROR.
	Rejected bool
	// Static flags serve the same result to every context: enabled with nothing but a fixed
	// fallthrough, or disabled. Hosts may answer them without entering the engine.
	Static bool

	// targetKeys lists every targeted key, in document order; targetVars[i] is the variation
	// of targetKeys' i-th key. A key listed twice is found first, so the first target wins.
	targetKeys StringList
	targetVars []int32
}

// TargetKeys lists the flag's targeted keys for lookup; TargetVariation(i) is the variation
// the key at position i is pinned to.
func (f *Flag) TargetKeys() *StringList { return &f.targetKeys }

// TargetVariation returns the variation the target key at position i (of TargetKeys) is
// pinned to.
func (f *Flag) TargetVariation(i int) int { return int(f.targetVars[i]) }

// Variation is one possible value of a flag.
type Variation struct {
	// JSON is the value as compact JSON text, exactly as every host reports it.
	JSON string
	Kind Kind
	Bool bool
	Num  float64
	Str  string
}

// Prerequisite names another flag that must serve one of Variations.
type Prerequisite struct {
	Key        string
	Flag       int // index into Snapshot.Flags
	Variations []int
}

// Schedule bounds when a flag is active: NotBefore ≤ now < NotAfter, in epoch milliseconds.
type Schedule struct {
	Set                 bool
	NotBefore, NotAfter int64
}

// Target pins targeting keys to a variation.
type Target struct {
	Variation int
	Values    []string
}

// Serve is what a rule or the fallthrough serves: a variation, or a rollout when Rollout is set.
type Serve struct {
	Variation int
	Rollout   *Rollout
}

// Rollout splits contexts between variations by the bucketing spec.
type Rollout struct {
	BucketBy     int // attribute id
	BucketByName string
	Salt         string
	Variations   []WeightedVariation
	// Prefix is the murmur3 state of Salt + ".", so an evaluation hashes only the value.
	Prefix murmur3.Prefix
}

// WeightedVariation is one range of a rollout; Weight in thousandths of a percent.
type WeightedVariation struct {
	Variation int
	Weight    int32
}

// Experiment settings of a flag.
type Experiment struct {
	Key              string
	Hypothesis       string
	ControlVariation int
	Metrics          []string
	// StartedAt and EndedAt bound the exposure window in epoch milliseconds; 0 when open.
	StartedAt, EndedAt int64
}

// Rule is one targeting rule of a flag, or of a segment (where Serve is unused).
type Rule struct {
	ID          string
	Description string
	MatchAny    bool
	Clauses     []Clause
	Serve
}

// Clause tests one attribute. Its values are pre-parsed for its operator: only the slices the
// operator uses are set.
type Clause struct {
	Attribute string
	Attr      int // attribute id
	Op        Operator
	Negate    bool
	// Flip inverts a clause's outcome: Negate, xor the operator's own negation (notEquals,
	// notIn, notInSegment), so the evaluator tests one flag instead of two.
	Flip bool

	Strings []string
	// Set is Strings prepared for equality lookups (equals, in and their negations).
	Set     StringList
	Numbers []float64
	// Bound is the one value an ordering comparison (lt, lte, gt, gte, before, after) has to
	// pass: a clause matches when any value does, so lt, lte and before need only the largest
	// and gt, gte and after the smallest. ±Inf when there are no values, which nothing passes.
	Bound float64
	// cmpMask holds the comparison outcomes a semver operator accepts: bit 0 for less, 1 for
	// equal, 2 for greater.
	cmpMask  uint8
	Bools    []bool
	Times    []int64 // epoch ms
	Versions []Semver
	Regexps  []*Regex
	Segments []int // indices into Snapshot.Segments
}

// Segment is a named, reusable group of contexts.
type Segment struct {
	Key         string
	Description string
	Included    StringList
	Excluded    StringList
	Rules       []Rule
	Rejected    bool
}

// Accepts reports whether a semver clause is satisfied by a comparison outcome (-1, 0 or 1) of
// the context's version against one of its values.
func (c *Clause) Accepts(cmp int) bool { return c.cmpMask>>uint(cmp+1)&1 != 0 }
