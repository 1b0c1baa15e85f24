package vexil

import (
	"errors"
	"strconv"
	"time"

	"github.com/vexil-flags/vexil/core"
)

// Context is who and when a flag is evaluated for.
type Context struct {
	// TargetingKey identifies the subject (user, account, device): targets, segments and
	// rollouts use it. Empty means none, unless Attributes holds a string "targetingKey".
	TargetingKey string
	// Attributes are matched by rules: strings, booleans, numbers (any Go integer or float
	// type), times (time.Time, as epoch milliseconds, for before/after clauses) and lists of
	// strings ([]string, or []any holding only strings). Any other value
	// makes every check with this context return its default with INVALID_CONTEXT, naming the
	// attribute.
	Attributes map[string]any
	// Now is the evaluation time for schedules, experiment windows and time clauses; the zero
	// value means the time the context is bound (Client.For or Handle.Reset).
	Now time.Time
}

// validate checks attribute types without allocating (except for the error).
func (c *Context) validate() error {
	for name, v := range c.Attributes {
		switch v := v.(type) {
		case string, bool, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, []string, time.Time:
			if name == targetingKeyName {
				if _, ok := v.(string); !ok {
					return &ContextError{Attribute: name, Message: "must be a string"}
				}
			}
		case []any:
			for _, e := range v {
				if _, ok := e.(string); !ok {
					return &ContextError{Attribute: name, Message: "lists must hold only strings"}
				}
			}
			if name == targetingKeyName {
				return &ContextError{Attribute: name, Message: "must be a string"}
			}
		case nil:
			return &ContextError{Attribute: name, Message: "unsupported value null"}
		default:
			return &ContextError{Attribute: name, Message: "unsupported type " + typeName(v)}
		}
	}
	return nil
}

const targetingKeyName = "targetingKey"

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []int, []float64, []bool:
		return "list of non-strings"
	}
	return "value"
}

// ContextError names a context attribute that cannot be used.
type ContextError struct {
	Attribute string
	Message   string
}

func (e *ContextError) Error() string { return "context." + e.Attribute + ": " + e.Message }

// number converts a numeric attribute.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case time.Time:
		return float64(n.UnixMilli()), true
	}
	return 0, false
}

// Reason says why a value was served. The names are OpenFeature's, plus PREREQUISITE_FAILED.
type Reason string

const (
	ReasonStatic             Reason = "STATIC"          // the flag serves the same to everyone
	ReasonTargetingMatch     Reason = "TARGETING_MATCH" // an individual target or a rule matched
	ReasonSplit              Reason = "SPLIT"           // a rollout or percentage-of-time gate chose
	ReasonDisabled           Reason = "DISABLED"        // the flag is off or outside its schedule
	ReasonDefault            Reason = "DEFAULT"         // the fallthrough, or a rollout without its bucket-by value
	ReasonPrerequisiteFailed Reason = "PREREQUISITE_FAILED"
	ReasonError              Reason = "ERROR" // the caller's default was served; see ErrorCode and Err
)

var reasons = [...]Reason{
	core.ReasonStatic:             ReasonStatic,
	core.ReasonTargetingMatch:     ReasonTargetingMatch,
	core.ReasonSplit:              ReasonSplit,
	core.ReasonDisabled:           ReasonDisabled,
	core.ReasonDefault:            ReasonDefault,
	core.ReasonPrerequisiteFailed: ReasonPrerequisiteFailed,
	core.ReasonError:              ReasonError,
}

// ErrorCode says what went wrong when Reason is ReasonError. The names are OpenFeature's.
type ErrorCode string

const (
	ErrorNone             ErrorCode = ""
	ErrorFlagNotFound     ErrorCode = "FLAG_NOT_FOUND"
	ErrorParse            ErrorCode = "PARSE_ERROR" // the flag was rejected when the snapshot loaded
	ErrorTypeMismatch     ErrorCode = "TYPE_MISMATCH"
	ErrorInvalidContext   ErrorCode = "INVALID_CONTEXT"
	ErrorProviderNotReady ErrorCode = "PROVIDER_NOT_READY" // no snapshot yet
	ErrorGeneral          ErrorCode = "GENERAL"            // the client is closed, or the engine failed
)

var errorCodes = [...]ErrorCode{
	core.ErrorNone:           ErrorNone,
	core.ErrorFlagNotFound:   ErrorFlagNotFound,
	core.ErrorParse:          ErrorParse,
	core.ErrorTypeMismatch:   ErrorTypeMismatch,
	core.ErrorInvalidContext: ErrorInvalidContext,
}

// ErrNotReady is the error of checks made before the client has a snapshot.
var ErrNotReady = errors.New("vexil: no snapshot loaded yet")

// ErrClosed is the error of checks made after Close.
var ErrClosed = errors.New("vexil: client closed")

// EvalError is the error of a check that served the caller's default.
type EvalError struct {
	Flag string
	Code ErrorCode
	Err  error // the cause, when there is more to say than the code
}

func (e *EvalError) Error() string {
	s := "vexil: flag " + strconv.Quote(e.Flag) + ": " + string(e.Code)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *EvalError) Unwrap() error { return e.Err }

// Detail is everything about one check besides the value.
type Detail struct {
	// Variation is the index of the served variation, -1 when the caller's default was served.
	Variation int
	Reason    Reason
	// RuleID is the id of the rule that decided, "" when no rule (or a rule without id) did.
	RuleID string
	// ErrorCode and Err say why the default was served, when it was because of an error.
	ErrorCode ErrorCode
	Err       error
	// InExperiment marks an exposure: the flag runs an experiment and a rollout chose.
	InExperiment bool
	// ValueJSON is the served value as compact JSON, exactly as the snapshot's engine reports
	// it (the same text on every host); "" when the caller's default was served.
	ValueJSON string
	// Version is the snapshot version that answered, -1 when none.
	Version int64
}
