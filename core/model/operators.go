package model

// Operator is a clause operator.
type Operator uint8

const (
	OpEquals Operator = iota
	OpNotEquals
	OpIn
	OpNotIn
	OpContains
	OpStartsWith
	OpEndsWith
	OpMatches
	OpLt
	OpLte
	OpGt
	OpGte
	OpBefore
	OpAfter
	OpSemverEq
	OpSemverLt
	OpSemverLte
	OpSemverGt
	OpSemverGte
	OpInSegment
	OpNotInSegment
	OpExists
	opCount
)

var opNames = [opCount]string{
	"equals", "notEquals", "in", "notIn", "contains", "startsWith", "endsWith", "matches",
	"lt", "lte", "gt", "gte", "before", "after",
	"semverEq", "semverLt", "semverLte", "semverGt", "semverGte",
	"inSegment", "notInSegment", "exists",
}

func (o Operator) String() string {
	if o < opCount {
		return opNames[o]
	}
	return "unknown"
}

// ParseOperator returns the operator named s.
func ParseOperator(s string) (Operator, bool) {
	for i, n := range opNames {
		if n == s {
			return Operator(i), true
		}
	}
	return 0, false
}

// valueType is what an operator's values must be.
type valueType uint8

const (
	valuesScalar  valueType = iota // strings, numbers or booleans
	valuesString                   // strings
	valuesRegex                    // strings that compile as RE2
	valuesNumber                   // numbers
	valuesTime                     // RFC 3339 strings or epoch ms
	valuesSemver                   // semantic versions
	valuesSegment                  // segment keys
	valuesNone                     // ignored
)

func (o Operator) valueType() valueType {
	switch o {
	case OpEquals, OpNotEquals, OpIn, OpNotIn:
		return valuesScalar
	case OpContains, OpStartsWith, OpEndsWith:
		return valuesString
	case OpMatches:
		return valuesRegex
	case OpLt, OpLte, OpGt, OpGte:
		return valuesNumber
	case OpBefore, OpAfter:
		return valuesTime
	case OpInSegment, OpNotInSegment:
		return valuesSegment
	case OpExists:
		return valuesNone
	}
	return valuesSemver
}

// IsSegmentOp reports whether o tests segment membership.
func (o Operator) IsSegmentOp() bool { return o == OpInSegment || o == OpNotInSegment }
