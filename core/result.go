package core

// Reason says why a result was served. The names are OpenFeature's, plus PREREQUISITE_FAILED.
type Reason uint8

const (
	ReasonStatic Reason = iota
	ReasonTargetingMatch
	ReasonSplit
	ReasonDisabled
	ReasonDefault
	ReasonPrerequisiteFailed
	ReasonError
)

var reasonNames = [...]string{"STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "PREREQUISITE_FAILED", "ERROR"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "UNKNOWN"
}

// ErrorCode says what went wrong when Reason is ReasonError. The names are OpenFeature's.
type ErrorCode uint8

const (
	ErrorNone ErrorCode = iota
	ErrorFlagNotFound
	ErrorParse          // the flag was rejected when the snapshot loaded
	ErrorTypeMismatch   // a typed check of a flag of another kind
	ErrorInvalidContext // the context was prepared for another snapshot
)

var errorNames = [...]string{"", "FLAG_NOT_FOUND", "PARSE_ERROR", "TYPE_MISMATCH", "INVALID_CONTEXT"}

func (e ErrorCode) String() string {
	if int(e) < len(errorNames) {
		return errorNames[e]
	}
	return "GENERAL"
}

// Result is the outcome of one evaluation. It is a 16-byte value with no pointers — four
// fields, so the Go compiler keeps it in registers — and the served value and the rule id are
// looked up through the Evaluator only when needed.
type Result struct {
	Flag      int32 // index of the flag, -1 when unknown
	Variation int32 // index of the served variation, -1 for the caller's default
	Rule      int32 // index of the deciding rule, -1 when no rule decided
	bits      uint32
}

func makeResult(flag, variation, rule int32, reason Reason, code ErrorCode, inExperiment bool) Result {
	bits := uint32(reason) | uint32(code)<<8
	if inExperiment {
		bits |= 1 << 16
	}
	return Result{Flag: flag, Variation: variation, Rule: rule, bits: bits}
}

func errorResult(flag int32, code ErrorCode) Result {
	return makeResult(flag, -1, -1, ReasonError, code, false)
}

// Reason says why the value was served.
func (r Result) Reason() Reason { return Reason(r.bits) }

// ErrorCode says what went wrong when Reason is ReasonError.
func (r Result) ErrorCode() ErrorCode { return ErrorCode(r.bits >> 8) }

// InExperiment marks an exposure: the flag runs an experiment, now is inside its window, and a
// rollout chose the variation.
func (r Result) InExperiment() bool { return r.bits>>16&1 != 0 }

// Pack returns the result in the 32-bit layout of the wasm ABI (wasm/ABI.md, "Result"):
//
//	bits  0–12  variation + 1 (0: the caller's default)
//	bits 13–25  rule + 1 (0: no rule decided)
//	bits 26–28  reason
//	bits 29–30  error code (ErrorNone … ErrorTypeMismatch)
//	bit  31     in experiment
//
// The flag index is not packed: the caller knows it. model.MaxVariations and model.MaxRules
// keep indices within their bits; ErrorInvalidContext, which only a native host can hit, is
// not representable and packs as ErrorParse.
func (r Result) Pack() uint32 {
	code := r.ErrorCode()
	if code > ErrorTypeMismatch {
		code = ErrorParse
	}
	p := uint32(r.Variation+1)&0x1fff | uint32(r.Rule+1)&0x1fff<<13 | uint32(r.Reason())&7<<26 | uint32(code)&3<<29
	if r.InExperiment() {
		p |= 1 << 31
	}
	return p
}

// Unpack is the inverse of Pack, for the flag at index flag.
func Unpack(flag int32, p uint32) Result {
	return makeResult(flag, int32(p&0x1fff)-1, int32(p>>13&0x1fff)-1, Reason(p>>26&7), ErrorCode(p>>29&3), p>>31 != 0)
}

// Type is what a typed getter asks for.
type Type uint8

const (
	TypeAny Type = iota // no type check
	TypeBool
	TypeString
	TypeNumber
	TypeInteger // a number without a fraction
	TypeJSON    // any value
)

var typeNames = [...]string{"", "boolean", "string", "number", "integer", "json"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// ParseType returns the Type named s ("boolean", "string", "number", "integer", "json"; ""
// for TypeAny).
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if n == s {
			return Type(i), true
		}
	}
	return TypeAny, false
}
