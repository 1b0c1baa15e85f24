package core

import "strconv"

// Value returns the served value as compact JSON, or defaultJSON when the caller's default is
// served (variation -1).
func (e *Evaluator) Value(r Result, defaultJSON string) string {
	if r.Variation < 0 || r.Flag < 0 {
		return defaultJSON
	}
	return e.snap.Flags[r.Flag].Variations[r.Variation].JSON
}

// RuleID returns the id of the rule that decided r, or "".
func (e *Evaluator) RuleID(r Result) string {
	if r.Rule < 0 || r.Flag < 0 {
		return ""
	}
	return e.snap.Flags[r.Flag].Rules[r.Rule].ID
}

// AppendJSON appends the full result as one JSON object, the form the CLI prints and the golden
// vectors hold: {"flag","value","variation","reason","ruleId"?,"errorCode"?,"inExperiment"}.
// defaultJSON is the caller's default as JSON ("null" when there is none).
func (e *Evaluator) AppendJSON(dst []byte, key string, r Result, defaultJSON string) []byte {
	return AppendResultJSON(dst, key, r, e.Value(r, defaultJSON), e.RuleID(r))
}

// AppendResultJSON renders a result whose value (as JSON) and rule id the caller looked up —
// the one rendering for every engine, so native and wasm results compare byte for byte.
func AppendResultJSON(dst []byte, key string, r Result, valueJSON, ruleID string) []byte {
	dst = append(dst, `{"flag":`...)
	dst = AppendJSONString(dst, key)
	dst = append(dst, `,"value":`...)
	dst = append(dst, valueJSON...)
	dst = append(dst, `,"variation":`...)
	dst = strconv.AppendInt(dst, int64(r.Variation), 10)
	dst = append(dst, `,"reason":"`...)
	dst = append(dst, r.Reason().String()...)
	dst = append(dst, '"')
	if ruleID != "" {
		dst = append(dst, `,"ruleId":`...)
		dst = AppendJSONString(dst, ruleID)
	}
	if r.ErrorCode() != ErrorNone {
		dst = append(dst, `,"errorCode":"`...)
		dst = append(dst, r.ErrorCode().String()...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"inExperiment":`...)
	dst = strconv.AppendBool(dst, r.InExperiment())
	return append(dst, '}')
}

// AppendJSONString appends s as a JSON string, escaping only what JSON requires.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
