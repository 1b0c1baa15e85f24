package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/internal/gen"
)

// Fuzz targets of the engine's two inputs: snapshot bytes (FuzzParse), and contexts, times and
// random numbers against valid snapshots (FuzzEvaluate, FuzzContextJSON). The engine promises
// that loading reports problems instead of failing, that Evaluate never panics, and that every
// result is well formed. The committed seed corpus is under testdata/fuzz/<target>/.

// operatorsSnapshot has one flag per operator (and negated variants), over attributes of every
// kind: s (string), n (number), b (bool), l (list of strings), t (time), v (version).
const operatorsSnapshot = `{
  "schemaVersion": 1, "environment": "fuzz", "version": 1,
  "segments": [
    {"key": "seg-a", "included": ["u1", "u2"], "excluded": ["u3"],
     "rules": [{"clauses": [{"attribute": "s", "op": "startsWith", "values": ["seg"]}]}]},
    {"key": "seg-big", "included": ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"],
     "rules": [{"match": "any", "clauses": [{"attribute": "n", "op": "gte", "values": [100]}, {"attribute": "l", "op": "in", "values": ["vip"]}]}]},
    {"key": "seg-empty"}
  ],
  "flags": [
    {"key": "op-equals-s", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "equals", "values": ["a"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-equals-n", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "n", "op": "equals", "values": [1]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-equals-b", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "b", "op": "equals", "values": [true]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-notEquals", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "notEquals", "values": ["a"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-in-mixed", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "in", "values": ["a", 1, true, "b"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-in-set", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "l", "op": "in", "values": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-notIn", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "l", "op": "notIn", "values": ["x", "y"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-contains", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "contains", "values": ["mid", ""]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-startsWith-negate", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "startsWith", "values": ["pre"], "negate": true}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-endsWith", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "l", "op": "endsWith", "values": ["@example.com"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-matches", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "s", "op": "matches", "values": ["^a.*z$", "\\d{3}", "(?i)ünï"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-lt", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "n", "op": "lt", "values": [0, -1.5]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-lte", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "n", "op": "lte", "values": [10]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-gt", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "n", "op": "gt", "values": [1e300]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-gte-negate", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "n", "op": "gte", "values": [99.5], "negate": true}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-before", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "t", "op": "before", "values": ["2026-01-01T00:00:00Z", 0]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-after", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "t", "op": "after", "values": [1793491200000, "2026-11-23T13:00:00.250+01:00"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-semverEq", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "v", "op": "semverEq", "values": ["1.2.3", "v2"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-semverLt", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "v", "op": "semverLt", "values": ["1.0.0-rc.1"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-semverLte", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "l", "op": "semverLte", "values": ["2.1"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-semverGt", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "v", "op": "semverGt", "values": ["5.0.0-beta.1+build.7"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-semverGte", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "v", "op": "semverGte", "values": ["4.2.0"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-inSegment", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"op": "inSegment", "values": ["seg-a", "seg-big"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-notInSegment", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "targetingKey", "op": "notInSegment", "values": ["seg-empty"]}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-inSegment-negate", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"op": "inSegment", "values": ["seg-big"], "negate": true}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-exists", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "b", "op": "exists"}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "op-exists-negate", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "r", "clauses": [{"attribute": "missing", "op": "exists", "negate": true}], "variation": 1}], "fallthrough": {"variation": 0}},
    {"key": "match-any-none", "enabled": true, "variations": [false, true], "offVariation": 0, "rules": [{"id": "never", "match": "any", "clauses": [], "variation": 1}, {"id": "always", "match": "all", "variation": 0}], "fallthrough": {"variation": 1}},
    {"key": "match-any-mixed", "enabled": true, "variations": ["x", "y", "z"], "rules": [{"id": "r", "match": "any", "clauses": [{"attribute": "s", "op": "equals", "values": ["a"]}, {"attribute": "n", "op": "gt", "values": [5]}, {"attribute": "l", "op": "contains", "values": ["q"], "negate": true}], "variation": 2}], "fallthrough": {"variation": 1}}
  ]
}`

// structureSnapshot exercises evaluation order: off variations (and their absence),
// schedules, prerequisite chains and diamonds, targets, percentage of time, rollouts by other
// attributes, experiments, and every variation kind.
const structureSnapshot = `{
  "schemaVersion": 1, "environment": "fuzz", "version": 2,
  "segments": [{"key": "staff", "rules": [{"clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"]}]}]}],
  "flags": [
    {"key": "static-on", "enabled": true, "variations": [false, true], "fallthrough": {"variation": 1}},
    {"key": "off-no-default", "variations": ["a", "b"], "fallthrough": {"variation": 1}},
    {"key": "off-with-default", "enabled": false, "variations": [1, 2.5, 3], "offVariation": 2, "fallthrough": {"variation": 0}},
    {"key": "sched-window", "enabled": true, "variations": [false, true], "offVariation": 0, "schedule": {"notBefore": "2026-11-25T00:00:00Z", "notAfter": "2026-12-31T00:00:00Z"}, "fallthrough": {"variation": 1}},
    {"key": "sched-from", "enabled": true, "variations": [false, true], "schedule": {"notBefore": "1970-01-01T00:00:00.001Z"}, "fallthrough": {"variation": 1}},
    {"key": "sched-until", "enabled": true, "variations": [false, true], "offVariation": 0, "schedule": {"notAfter": "2000-01-01T00:00:00+02:00"}, "fallthrough": {"variation": 1}},
    {"key": "pot-0", "enabled": true, "variations": [false, true], "offVariation": 0, "percentageOfTime": 0, "fallthrough": {"variation": 1}},
    {"key": "pot-50", "enabled": true, "variations": [false, true], "percentageOfTime": 50000, "fallthrough": {"variation": 1}},
    {"key": "pot-100", "enabled": true, "variations": [false, true], "offVariation": 0, "percentageOfTime": 100000, "fallthrough": {"variation": 1}},
    {"key": "targets", "enabled": true, "variations": ["a", "b", "c"], "offVariation": 0, "percentageOfTime": 1,
     "targets": [{"variation": 1, "values": ["u1", "u2", "dup"]}, {"variation": 2, "values": ["dup", "u3"]}, {"variation": 0, "values": []}],
     "fallthrough": {"variation": 0}},
    {"key": "chain-1", "enabled": true, "variations": [false, true], "offVariation": 0,
     "fallthrough": {"rollout": {"variations": [{"variation": 1, "weight": 50000}, {"variation": 0, "weight": 50000}]}}},
    {"key": "chain-2", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "chain-1", "variations": [1]}], "fallthrough": {"variation": 1}},
    {"key": "chain-3", "enabled": true, "variations": [false, true], "prerequisites": [{"flag": "chain-2", "variations": [1]}], "fallthrough": {"variation": 1}},
    {"key": "chain-4", "enabled": true, "variations": ["x", "y"], "offVariation": 1, "prerequisites": [{"flag": "chain-3", "variations": [1]}, {"flag": "sched-window", "variations": [1]}], "fallthrough": {"variation": 0}},
    {"key": "diamond", "enabled": true, "variations": [false, true], "offVariation": 0,
     "prerequisites": [{"flag": "chain-2", "variations": [0, 1]}, {"flag": "pot-50", "variations": [1]}, {"flag": "static-on", "variations": [1]}],
     "fallthrough": {"variation": 1}},
    {"key": "needs-off", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "off-no-default", "variations": [0, 1]}], "fallthrough": {"variation": 1}},
    {"key": "needs-targets", "enabled": true, "variations": [false, true], "prerequisites": [{"flag": "targets", "variations": [2]}], "fallthrough": {"variation": 1}},
    {"key": "by-account", "enabled": true, "variations": ["control", "treatment-a", "treatment-b"], "offVariation": 0,
     "salt": "flag-salt",
     "rules": [{"id": "staff", "clauses": [{"op": "inSegment", "values": ["staff"]}], "rollout": {"bucketBy": "accountId", "variations": [{"variation": 0, "weight": 0}, {"variation": 1, "weight": 100000}, {"variation": 2, "weight": 0}]}}],
     "fallthrough": {"rollout": {"bucketBy": "accountId", "salt": "exp-1", "variations": [{"variation": 0, "weight": 34000}, {"variation": 1, "weight": 33000}, {"variation": 2, "weight": 33000}]}},
     "experiment": {"key": "exp-1", "controlVariation": 0, "metrics": ["purchase"], "startedAt": "2026-11-25T00:00:00Z", "endedAt": "2026-12-31T00:00:00Z"}},
    {"key": "experiment-open", "enabled": true, "variations": [false, true], "offVariation": 0,
     "fallthrough": {"rollout": {"bucketBy": "n", "variations": [{"variation": 0, "weight": 100000}]}},
     "experiment": {"controlVariation": 0}},
    {"key": "json-values", "enabled": true, "variations": [null, [1, "two", {"three": 3}], {"a": {"b": [true, null]}}], "offVariation": 0,
     "rules": [{"id": "any-s", "match": "any", "clauses": [{"attribute": "s", "op": "exists"}, {"attribute": "n", "op": "lt", "values": [0]}], "variation": 1}],
     "fallthrough": {"variation": 2}},
    {"key": "numbers", "enabled": true, "variations": [0, -1, 2.5, 1e21], "rules": [{"id": "big", "clauses": [{"attribute": "n", "op": "gt", "values": [1000]}], "variation": 3}, {"id": "frac", "clauses": [{"attribute": "n", "op": "gt", "values": [0]}], "variation": 2}], "fallthrough": {"variation": 1}},
    {"key": "strings", "enabled": true, "variations": ["", "ünïcödé", "line\nbreak \"quoted\""], "offVariation": 0, "targets": [{"variation": 2, "values": [""]}], "fallthrough": {"variation": 1}}
  ]
}`

// fuzzContexts are context seeds that reach the interesting paths of the snapshots above.
var fuzzContexts = []string{
	`{}`,
	`{"targetingKey": "u1"}`,
	`{"targetingKey": "user-17", "email": "qa+bot-1@example.com", "country": "DE", "plan": "pro", "seats": 600, "betaOptIn": true}`,
	`{"targetingKey": "user-666", "plan": "enterprise", "appVersion": "4.1.3", "fraudReviewOpenedAt": "2026-11-01T00:00:00Z", "chargebackCount": 3}`,
	`{"targetingKey": "k7", "s": "a", "n": 1, "b": true, "l": ["a", "vip", "x@example.com"], "t": "2025-06-01T00:00:00Z", "v": "1.2.3"}`,
	`{"targetingKey": "dup", "s": "prefix-mid-z", "n": -2, "b": false, "l": [], "t": 1893456000000, "v": "v5.0.0-beta.2"}`,
	`{"targetingKey": "", "s": "seg-123", "n": 1e300, "t": -1, "v": "2", "accountId": "acct-1"}`,
	`{"targetingKey": "u3", "accountId": 42, "email": "jane@example.com", "n": 100.5, "l": ["1.0.0", "2.1.0-alpha"]}`,
	`{"accountId": 4.5, "platform": "web", "locale": "de-AT", "userAgent": "Mobile Safari", "screenWidth": 480, "cartValue": 1000}`,
	`{"targetingKey": "user-42", "country": "US", "platform": "web", "accountId": "acct-9", "signupDate": "2025-12-31T23:59:59Z", "lastPurchaseAt": 1793491200001}`,
	`{"targetingKey": 7}`,
	`{"s": {"nested": true}}`,
	`{"l": ["a", 1]}`,
	`{"s": null}`,
	`[1, 2]`,
	`not json`,
	``,
}

// fuzzNow are interesting evaluation times: around the example's schedules and experiment
// windows, the epoch, and the extremes.
var fuzzNow = []int64{0, 1795435200000, 1795651200000, 1796083200000, 1798675200000, -1, 1<<63 - 1, -1 << 63}

func exampleJSON(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "example.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// fuzzSnapshots are the valid snapshots FuzzEvaluate picks from.
func fuzzSnapshots(tb testing.TB) [][]byte {
	return [][]byte{
		exampleJSON(tb),
		[]byte(operatorsSnapshot),
		[]byte(structureSnapshot),
		gen.Snapshot(60, 1),
	}
}

// fixedContext is the small context FuzzParse evaluates every loaded flag with.
const fixedContext = `{"targetingKey": "user-17", "email": "qa+x@example.com", "country": "DE", "plan": "pro",
	"seats": 600, "appVersion": "4.2.1", "betaOptIn": true, "groups": ["a", "b"], "s": "a", "n": 1, "b": true}`

// callWithin runs fn, turning a panic into a test failure with its stack, and fails the test
// when fn has not returned within d: the fuzz engine itself has no per-input time limit.
func callWithin(t *testing.T, what string, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
				return
			}
			done <- ""
		}()
		fn()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case msg := <-done:
		if msg != "" {
			t.Fatalf("%s: %s", what, msg)
		}
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// checkResult checks that r is a well-formed result of flag i.
func checkResult(t *testing.T, ev *core.Evaluator, i int, r core.Result, what string) {
	t.Helper()
	f := &ev.Snapshot().Flags[i]
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: flag %d %q: %+v (%v %v): %s", what, i, f.Key, r, r.Reason(), r.ErrorCode(), fmt.Sprintf(format, args...))
	}
	switch {
	case r.Reason().String() == "UNKNOWN":
		fail("invalid reason %d", r.Reason())
	case r.Flag != int32(i):
		fail("result names flag %d", r.Flag)
	case r.Variation < -1 || int(r.Variation) >= len(f.Variations):
		fail("variation out of [-1, %d)", len(f.Variations))
	case r.Rule < -1 || int(r.Rule) >= len(f.Rules):
		fail("rule out of [-1, %d)", len(f.Rules))
	case f.Rejected && (r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorParse):
		fail("a rejected flag must yield ERROR/PARSE_ERROR")
	case !f.Rejected && r.Reason() == core.ReasonError:
		fail("a loaded flag yields ERROR")
	case r.Reason() != core.ReasonError && r.ErrorCode() != core.ErrorNone:
		fail("an error code without reason ERROR")
	case r.Rule >= 0 && r.Reason() != core.ReasonTargetingMatch && r.Reason() != core.ReasonSplit && r.Reason() != core.ReasonDefault:
		fail("a rule decided with reason %v", r.Reason())
	case r.InExperiment() && (r.Reason() != core.ReasonSplit || f.Experiment == nil):
		fail("in an experiment without a SPLIT of an experiment flag")
	case (r.Reason() == core.ReasonDisabled || r.Reason() == core.ReasonPrerequisiteFailed) && int(r.Variation) != f.OffVariation:
		fail("off result serves %d, offVariation is %d", r.Variation, f.OffVariation)
	case r.Variation == -1 && r.Reason() != core.ReasonError && f.OffVariation != -1:
		fail("caller's default served although offVariation is %d", f.OffVariation)
	case r.Reason() == core.ReasonStatic && !f.Static:
		fail("STATIC from a flag that is not static")
	}
}

// checkFlags evaluates every flag of ev with ctx and checks each result, typed checks,
// EvaluateAll, StaticResult and the JSON rendering.
func checkFlags(t *testing.T, ev *core.Evaluator, ctx *core.Context, what string) {
	t.Helper()
	flags := ev.Snapshot().Flags
	all := ev.EvaluateAll(ctx, nil)
	if len(all) != len(flags) {
		t.Fatalf("%s: EvaluateAll returned %d results for %d flags", what, len(all), len(flags))
	}
	var buf []byte
	for i := range flags {
		f := &flags[i]
		r := ev.Evaluate(i, ctx)
		checkResult(t, ev, i, r, what)
		if again := ev.Evaluate(i, ctx); again != r {
			t.Fatalf("%s: flag %q: Evaluate is not deterministic: %+v then %+v", what, f.Key, r, again)
		}
		if all[i] != r {
			t.Fatalf("%s: flag %q: EvaluateAll says %+v, Evaluate %+v", what, f.Key, all[i], r)
		}
		if s, ok := ev.StaticResult(i); ok && s != r {
			t.Fatalf("%s: flag %q: StaticResult %+v, Evaluate %+v", what, f.Key, s, r)
		}
		for _, typ := range []core.Type{core.TypeAny, core.TypeBool, core.TypeString, core.TypeNumber, core.TypeInteger, core.TypeJSON} {
			tr := ev.EvaluateTyped(i, ctx, typ)
			if tr.Reason() == core.ReasonError && tr.ErrorCode() == core.ErrorTypeMismatch {
				if typ == core.TypeAny || typ == core.TypeJSON {
					t.Fatalf("%s: flag %q: TYPE_MISMATCH for type %q", what, f.Key, typ)
				}
				continue
			}
			if tr != r {
				t.Fatalf("%s: flag %q: EvaluateTyped(%q) = %+v, Evaluate %+v", what, f.Key, typ, tr, r)
			}
		}
		buf = ev.AppendJSON(buf[:0], f.Key, r, `"default"`)
		if !json.Valid(buf) {
			t.Fatalf("%s: flag %q: AppendJSON is not valid JSON: %s", what, f.Key, buf)
		}
	}
	if r := ev.Evaluate(len(flags), ctx); r.Reason() != core.ReasonError || r.ErrorCode() != core.ErrorFlagNotFound {
		t.Fatalf("%s: index past the end: %+v", what, r)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(exampleJSON(f))
	f.Add([]byte(operatorsSnapshot))
	f.Add([]byte(structureSnapshot))
	f.Add(gen.Snapshot(5, 3))
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"environment": "e", "version": 0}`,
		`{"environment": "e", "version": 1, "schemaVersion": 2}`,
		`{"environment": "e", "version": 1, "flags": {}}`,
		`{"environment": "e", "version": 1, "flags": [1, "x", null, {}]}`,
		`{"environment": "e", "version": 1, "flags": [{"key": "a", "variations": [true], "fallthrough": {"variation": 0}, "prerequisites": [{"flag": "a", "variations": [0]}]}]}`,
		`{"environment": "e", "version": 1, "flags": [{"key": "a", "enabled": true, "variations": [1, "x"], "fallthrough": {"rollout": {"variations": [{"variation": 3, "weight": 100001}]}}}]}`,
		`{"environment": "e", "version": 1, "segments": [{"key": "s", "rules": [{"clauses": [{"op": "inSegment", "values": ["s"]}]}]}], "flags": [{"key": "f", "enabled": true, "variations": [0], "rules": [{"clauses": [{"op": "inSegment", "values": ["s", "t"]}], "variation": 0}], "fallthrough": {"variation": 0}}]}`,
		`{"environment": "e", "version": 1, "flags": [{"key": "f", "enabled": true, "variations": [0, 1], "rules": [{"clauses": [{"attribute": "a", "op": "matches", "values": ["("]}, {"attribute": "b", "op": "semverEq", "values": ["1.2.3.4"]}, {"attribute": "c", "op": "before", "values": ["2026-02-30T00:00:00Z", 1.5]}], "variation": 1}], "fallthrough": {"variation": 0}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev *core.Evaluator
		var err error
		callWithin(t, "Load", 10*time.Second, func() { ev, err = core.Load(data) })
		if err != nil {
			if ev != nil {
				t.Fatalf("Load returned an evaluator and an error %v", err)
			}
			return
		}
		if ev == nil {
			t.Fatal("Load returned neither an evaluator nor an error")
		}
		s := ev.Snapshot()
		rejected := false
		for i := range s.Flags {
			rejected = rejected || s.Flags[i].Rejected
			if j := ev.FlagIndex(s.Flags[i].Key); j < 0 || s.Flags[j].Key != s.Flags[i].Key {
				if !s.Flags[i].Rejected {
					t.Fatalf("FlagIndex(%q) = %d", s.Flags[i].Key, j)
				}
			}
		}
		for i := range s.Segments {
			rejected = rejected || s.Segments[i].Rejected
		}
		if rejected && len(s.Problems) == 0 {
			t.Fatal("a flag or segment was rejected without a problem")
		}
		if !rejected && len(s.Problems) > 0 {
			t.Fatalf("problems without a rejected flag or segment: %v", s.Problems)
		}
		// Loading is deterministic, problems included. (Only for small inputs: the fuzzer
		// minimizes every new input by running it thousands of times, and loading twice
		// doubles that cost for large ones.)
		if len(data) <= 2048 {
			ev2, err2 := core.Load(data)
			if err2 != nil || len(ev2.Snapshot().Problems) != len(s.Problems) {
				t.Fatalf("second load differs: %v", err2)
			}
			for i, p := range ev2.Snapshot().Problems {
				if p.String() != s.Problems[i].String() {
					t.Fatalf("second load: problem %d = %q, first load %q", i, p, s.Problems[i])
				}
			}
		}

		ctx := ev.NewContext()
		callWithin(t, "evaluate with an empty context", 10*time.Second, func() { checkFlags(t, ev, ctx, "empty context") })
		if err := ctx.SetJSON([]byte(fixedContext)); err != nil {
			t.Fatalf("fixed context: %v", err)
		}
		ctx.Now, ctx.Random = 1795651200000, 1<<31
		callWithin(t, "evaluate with the fixed context", 10*time.Second, func() { checkFlags(t, ev, ctx, "fixed context") })
	})
}

func FuzzEvaluate(f *testing.F) {
	snaps := fuzzSnapshots(f)
	evs := make([]*core.Evaluator, len(snaps))
	for i, data := range snaps {
		evs[i] = mustLoad(f, data)
	}
	for i := range snaps {
		for j, c := range fuzzContexts {
			f.Add(uint8(i), []byte(c), fuzzNow[(i+j)%len(fuzzNow)], uint32(j)*0x1234567)
		}
	}
	f.Add(uint8(2), []byte(`{"targetingKey": "dup", "accountId": 9007199254740993}`), int64(1795651200000), uint32(0))
	f.Add(uint8(2), []byte(`{"targetingKey": "u1", "email": "x@example.com", "accountId": "a"}`), int64(1795651200000), uint32(1<<32-1))
	f.Fuzz(func(t *testing.T, which uint8, ctxJSON []byte, now int64, random uint32) {
		ev := evs[int(which)%len(evs)]
		ctx := ev.NewContext()
		_ = ctx.SetJSON(ctxJSON) // on error the context is empty, which is a context too
		ctx.Now, ctx.Random = now, random
		checkFlags(t, ev, ctx, "fuzzed context")

		// A reused output slice gives the same results as a fresh one.
		out := make([]core.Result, 3, 100)
		out = ev.EvaluateAll(ctx, out)
		for i, r := range out {
			if want := ev.Evaluate(i, ctx); r != want {
				t.Fatalf("EvaluateAll into a reused slice: flag %d: %+v, want %+v", i, r, want)
			}
			// Explain walks the same decisions as Evaluate, so it must reach the same result.
			if x := ev.Explain(i, ctx); x.Result != r {
				t.Fatalf("Explain of flag %d: %+v, Evaluate: %+v", i, x.Result, r)
			}
		}
	})
}

// contextAttr is one attribute as encoding/json reads it, for the FuzzContextJSON oracle.
type contextAttr struct {
	name string
	kind byte // 's', 'n', 'b', 'l'
	s    string
	n    float64
	b    bool
	l    []string
}

// parseContextOracle reads a context the way SNAPSHOT.md specifies, with encoding/json and in
// document order (so a duplicate key behaves as in SetJSON): ok is false when the document
// must be rejected. deep reports a document too deep for encoding/json to judge.
func parseContextOracle(data []byte) (attrs []contextAttr, ok, deep bool) {
	if !json.Valid(data) {
		var syn *json.SyntaxError
		err := json.Unmarshal(data, new(any))
		return nil, false, errors.As(err, &syn) && bytes.Contains([]byte(syn.Error()), []byte("exceeded max depth"))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, false
		}
		name := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false, false
		}
		a := contextAttr{name: name}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, false, false
		}
		switch v := v.(type) {
		case string:
			a.kind, a.s = 's', v
		case json.Number:
			n, _ := strconv.ParseFloat(string(v), 64) // ±Inf beyond the range, as gjson reads it
			a.kind, a.n = 'n', n
		case bool:
			a.kind, a.b = 'b', v
		case []any:
			a.kind, a.l = 'l', []string{}
			for _, e := range v {
				s, isStr := e.(string)
				if !isStr {
					return nil, false, false
				}
				a.l = append(a.l, s)
			}
		default:
			return nil, false, false
		}
		if name == model.TargetingKey && a.kind != 's' {
			return nil, false, false
		}
		attrs = append(attrs, a)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, false, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false, false
	}
	return attrs, true, false
}

func FuzzContextJSON(f *testing.F) {
	evs := []*core.Evaluator{mustLoad(f, exampleJSON(f)), mustLoad(f, []byte(operatorsSnapshot)), mustLoad(f, []byte(structureSnapshot))}
	for _, c := range fuzzContexts {
		f.Add([]byte(c))
	}
	for _, s := range []string{
		`{"targetingKey": "a", "targetingKey": "b"}`,
		`{"s": "a", "s": [1]}`,
		`{"s": [1], "s": "a"}`,
		`{"n": 1e400, "t": -0, "v": "\u00e9\ud83d\ude00"}`,
		`{"s": "\ud800"}`,
		"{\"s\": \"\xff\xfe\"}",
		` {"s":"a"} `,
		`{"s":"a"}x`,
		`{"s":"a",}`,
		`{"l": [[]]}`,
		`"string"`,
		`{"b": tru}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		attrs, valid, deep := parseContextOracle(data)
		for _, ev := range evs {
			fresh := ev.NewContext()
			want := ev.EvaluateAll(fresh, nil)
			ctx := ev.NewContext()
			err := ctx.SetJSON(data)
			if err != nil {
				var cerr *core.ContextError
				if !errors.As(err, &cerr) || cerr.Field == "" || cerr.Message == "" {
					t.Fatalf("SetJSON error %v (%T) is not a ContextError naming a field", err, err)
				}
				if valid {
					t.Fatalf("SetJSON rejected a valid context: %v", err)
				}
				got := ev.EvaluateAll(ctx, nil)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("after the error %v, flag %q evaluates to %+v, with a fresh context to %+v",
							err, ev.Snapshot().Flags[i].Key, got[i], want[i])
					}
				}
				continue
			}
			if !valid && !deep {
				t.Fatalf("SetJSON accepted a context that is not a flat JSON object of strings, numbers, booleans and string arrays")
			}
			checkFlags(t, ev, ctx, "parsed context")
			if deep || !utf8.Valid(data) {
				continue // encoding/json replaces invalid UTF-8; the engine hashes what it got
			}
			// The same context built with the setters evaluates the same.
			built := ev.NewContext()
			for _, a := range attrs {
				switch {
				case a.name == model.TargetingKey:
					built.SetTargetingKey(a.s)
				case a.kind == 's':
					built.SetString(a.name, a.s)
				case a.kind == 'n':
					built.SetNumber(a.name, a.n)
				case a.kind == 'b':
					built.SetBool(a.name, a.b)
				case a.kind == 'l':
					built.SetStrings(a.name, a.l)
				}
			}
			got := ev.EvaluateAll(ctx, nil)
			for i, r := range ev.EvaluateAll(built, nil) {
				if got[i] != r {
					t.Fatalf("flag %q: SetJSON context gives %+v, the same context built with setters %+v",
						ev.Snapshot().Flags[i].Key, got[i], r)
				}
			}
		}
	})
}
