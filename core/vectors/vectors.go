// Package vectors reads the golden test vectors (core/testdata/vectors.json), the contract every
// host runs: the native core, the wasm module under wazero, and the JS host in Node and
// Chromium. A host evaluates each case its own way, renders the result in the form of
// core.Evaluator.AppendJSON, and compares it with Check.
//
// This package is test support: it uses encoding/json freely and is never part of an engine.
package vectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"

	"github.com/vexil-flags/vexil/core"
)

// File is the whole vectors file.
type File struct {
	Murmur3 []struct {
		Input string `json:"input"`
		Hash  uint32 `json:"hash"`
	} `json:"murmur3"`
	Buckets []struct {
		Salt   string `json:"salt"`
		Value  string `json:"value"`
		Bucket uint32 `json:"bucket"`
	} `json:"buckets"`
	Suites []Suite `json:"suites"`
}

// Suite is one snapshot with the problems it must report and the cases evaluated against it.
type Suite struct {
	Name     string          `json:"name"`
	Snapshot json.RawMessage `json:"snapshot"`
	Problems []string        `json:"problems"`
	Cases    []Case          `json:"cases"`
}

// Case is one evaluation and its expected result.
type Case struct {
	Name    string          `json:"name"`
	Flag    string          `json:"flag"`
	Context json.RawMessage `json:"context"`
	Now     int64           `json:"now"`
	Random  uint32          `json:"random"`
	Type    string          `json:"type"`
	Default json.RawMessage `json:"default"`
	Expect  Result          `json:"expect"`
}

// Result is a full evaluation result as hosts render it.
type Result struct {
	Value        json.RawMessage `json:"value"`
	Variation    int             `json:"variation"`
	Reason       string          `json:"reason"`
	RuleID       string          `json:"ruleId,omitempty"`
	ErrorCode    string          `json:"errorCode,omitempty"`
	InExperiment bool            `json:"inExperiment"`
}

// DefaultJSON is the case's caller default as compact JSON, "null" when absent.
func (c *Case) DefaultJSON() string {
	if len(c.Default) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, c.Default); err != nil {
		return "null"
	}
	return b.String()
}

// ContextJSON is the case's context, "{}" when absent.
func (c *Case) ContextJSON() []byte {
	if len(c.Context) == 0 {
		return []byte("{}")
	}
	return c.Context
}

// Path is the vectors file in this repository.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "vectors.json")
}

// Load reads the vectors file.
func Load() (*File, error) {
	data, err := os.ReadFile(Path())
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", Path(), err)
	}
	return &f, nil
}

// Check compares a host's rendered result (an object with at least the Result fields) with the
// case's expectation, field by field, values compared as JSON values. It returns a readable
// difference, or "" when they agree.
func Check(c *Case, actual []byte) string {
	var got Result
	if err := json.Unmarshal(actual, &got); err != nil {
		return fmt.Sprintf("result is not JSON (%v): %s", err, actual)
	}
	want := c.Expect
	var diffs []string
	if !sameJSON(got.Value, want.Value) {
		diffs = append(diffs, fmt.Sprintf("value %s, want %s", got.Value, orNull(want.Value)))
	}
	if got.Variation != want.Variation {
		diffs = append(diffs, fmt.Sprintf("variation %d, want %d", got.Variation, want.Variation))
	}
	if got.Reason != want.Reason {
		diffs = append(diffs, fmt.Sprintf("reason %s, want %s", got.Reason, want.Reason))
	}
	if got.RuleID != want.RuleID {
		diffs = append(diffs, fmt.Sprintf("ruleId %q, want %q", got.RuleID, want.RuleID))
	}
	if got.ErrorCode != want.ErrorCode {
		diffs = append(diffs, fmt.Sprintf("errorCode %q, want %q", got.ErrorCode, want.ErrorCode))
	}
	if got.InExperiment != want.InExperiment {
		diffs = append(diffs, fmt.Sprintf("inExperiment %v, want %v", got.InExperiment, want.InExperiment))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprint(diffs)
}

func orNull(b json.RawMessage) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if err := json.Unmarshal([]byte(orNull(a)), &x); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(orNull(b)), &y); err != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Native is a case evaluated by the native core: the reference every host is compared with.
type Native struct {
	Type   core.Type
	Result core.Result
	JSON   []byte // rendered by core.Evaluator.AppendJSON
}

// EvaluateNative sets ctx from the case (context, now, random) and evaluates it natively.
func (c *Case) EvaluateNative(ev *core.Evaluator, ctx *core.Context) (Native, error) {
	typ, ok := core.ParseType(c.Type)
	if !ok {
		return Native{}, fmt.Errorf("unknown type %q", c.Type)
	}
	if err := ctx.SetJSON(c.ContextJSON()); err != nil {
		return Native{}, fmt.Errorf("context: %w", err)
	}
	ctx.Now, ctx.Random = c.Now, c.Random
	r := ev.EvaluateTyped(ev.FlagIndex(c.Flag), ctx, typ)
	return Native{Type: typ, Result: r, JSON: ev.AppendJSON(nil, c.Flag, r, c.DefaultJSON())}, nil
}
