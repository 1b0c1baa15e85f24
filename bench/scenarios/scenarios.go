// Package scenarios is the one definition of the benchmark matrix: every engine that Vexil's
// benchmarks time — the native core, the TinyGo and standard-Go modules under wazero, the JS
// host in Node and Chromium, and the peers in bench/peers — runs these scenarios, and checks
// the expected answer of each before timing it.
//
// A scenario is a snapshot (JSON), a request context, and what the engine must answer:
//
//   - KindEvaluate: one flag for one context; Want gives the variation, reason and value.
//   - KindEvaluateAll: every flag of a generated 1,000-flag snapshot (internal/gen) for a
//     typical context; Want gives the digest of the results (see Digest) and the count of each
//     reason.
//   - KindLoad: parse and compile a generated snapshot; Want gives the flag count (and no
//     problem may be reported).
//
// The matrix is exported as JSON for runners in other languages (see Export and
// bench/scenarios.json, written by `go run ./bench/cmd/scenarios`).
//
// This is test support: it uses fmt and encoding/json freely and is never part of an engine.
package scenarios

import (
	"fmt"
	"strings"
	"sync"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/murmur3"
	"github.com/vexil-flags/vexil/internal/gen"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// Kind says what a scenario times.
type Kind string

const (
	KindEvaluate    Kind = "evaluate"
	KindEvaluateAll Kind = "evaluate-all"
	KindLoad        Kind = "load"
)

// Attr is one context attribute. Value is a string, float64, bool or []string.
type Attr struct {
	Name  string
	Value any
}

// Weight is one range of a split: variation index and weight in thousandths of a percent.
type Weight struct {
	Variation int
	Weight    int
}

// Want is the answer an engine must give before it is timed.
type Want struct {
	// KindEvaluate: the served variation, the reason and the value as
	// compact JSON.
	Variation int32
	Reason    core.Reason
	Value     string
	// KindEvaluateAll: the digest of every result in flag order and the count of each reason.
	Digest  string
	Reasons map[core.Reason]int
	// KindEvaluateAll and KindLoad: how many flags the snapshot holds.
	Flags int
}

// Scenario is one row of the matrix.
type Scenario struct {
	// Name is the benchmark name (BenchmarkEvaluate/<Name>): stable, other tests use it.
	Name string
	// Title says what the scenario is, for the report.
	Title string
	Kind  Kind
	// Snapshot is the snapshot JSON. Large generated ones are built on first use.
	Snapshot []byte
	// Flag is the evaluated flag (KindEvaluate).
	Flag string
	// Key is the targeting key and Attrs the other attributes of the request.
	Key   string
	Attrs []Attr
	// Now (epoch ms) and Random are the clock and dice the host hands the engine.
	Now    int64
	Random uint32
	// Split, for scenarios decided by a rollout, is its ranges in order: peers whose
	// bucketing differs from Vexil's check their answers' distribution against it.
	Split []Weight
	Want  Want
}

// Context fills a prepared native context with the scenario's request (after Reset).
func (sc *Scenario) Context(ctx *core.Context) {
	ctx.Reset()
	ctx.Now, ctx.Random = sc.Now, sc.Random
	ctx.SetTargetingKey(sc.Key)
	for _, a := range sc.Attrs {
		switch v := a.Value.(type) {
		case string:
			ctx.SetString(a.Name, v)
		case float64:
			ctx.SetNumber(a.Name, v)
		case bool:
			ctx.SetBool(a.Name, v)
		case []string:
			ctx.SetStrings(a.Name, v)
		}
	}
}

// Encode writes the scenario's request in the wasm ABI's context encoding, resolving
// attribute names with id (-1: the snapshot does not use it, so it is left out).
func (sc *Scenario) Encode(enc *abi.Encoder, id func(name string) int32) []byte {
	enc.Reset(sc.Now, sc.Random)
	enc.String(0, sc.Key)
	for _, a := range sc.Attrs {
		i := id(a.Name)
		if i < 0 {
			continue
		}
		switch v := a.Value.(type) {
		case string:
			enc.String(uint32(i), v)
		case float64:
			enc.Number(uint32(i), v)
		case bool:
			enc.Bool(uint32(i), v)
		case []string:
			enc.Strings(uint32(i), v)
		}
	}
	return enc.Bytes()
}

// ContextMap is the request as a flat map in OpenFeature's shape (targetingKey plus
// attributes), for engines that take a context object.
func (sc *Scenario) ContextMap() map[string]any {
	m := map[string]any{"targetingKey": sc.Key}
	for _, a := range sc.Attrs {
		m[a.Name] = a.Value
	}
	return m
}

// CheckResult returns "" when r is the expected answer of a KindEvaluate scenario, else what
// differs. value is the JSON the engine served for r.
func (sc *Scenario) CheckResult(r core.Result, value string) string {
	w := sc.Want
	if r.Variation != w.Variation || r.Reason() != w.Reason || r.ErrorCode() != core.ErrorNone || value != w.Value {
		return fmt.Sprintf("%s: got variation %d reason %v error %v value %s, want variation %d reason %v value %s",
			sc.Name, r.Variation, r.Reason(), r.ErrorCode(), value, w.Variation, w.Reason, w.Value)
	}
	return ""
}

// CheckAll returns "" when results are the expected answer of a KindEvaluateAll scenario.
func (sc *Scenario) CheckAll(results []core.Result) string {
	if len(results) != sc.Want.Flags {
		return fmt.Sprintf("%s: %d results, want %d", sc.Name, len(results), sc.Want.Flags)
	}
	reasons := map[core.Reason]int{}
	for _, r := range results {
		reasons[r.Reason()]++
	}
	if d := Digest(results); d != sc.Want.Digest {
		return fmt.Sprintf("%s: results digest %s (reasons %v), want %s (reasons %v)", sc.Name, d, reasons, sc.Want.Digest, sc.Want.Reasons)
	}
	return ""
}

// Digest is FNV-1a (64-bit) over each result's packed form (core.Result.Pack, the wasm ABI's
// 32-bit layout, little-endian) in flag order, in hex: one short string that pins 1,000
// answers.
func Digest(results []core.Result) string {
	h := uint64(14695981039346656037)
	for _, r := range results {
		p := r.Pack()
		for i := 0; i < 4; i++ {
			h ^= uint64(byte(p >> (8 * i)))
			h *= 1099511628211
		}
	}
	return fmt.Sprintf("%016x", h)
}

// Lookup returns the scenario with name, or nil.
func Lookup(name string) *Scenario {
	for _, sc := range All() {
		if sc.Name == name {
			return sc
		}
	}
	return nil
}

// Of returns the scenarios of one kind, in matrix order.
func Of(kind Kind) []*Scenario {
	var out []*Scenario
	for _, sc := range All() {
		if sc.Kind == kind {
			out = append(out, sc)
		}
	}
	return out
}

// rolloutVariation is the published bucketing spec written out independently of core:
// murmur3 x86 32 of salt + "." + value, × 100,000 >> 32, ranges in listed order.
func rolloutVariation(salt, value string, split []Weight) int32 {
	b := uint32(uint64(murmur3.SumString(salt+"."+value)) * 100000 >> 32)
	end := 0
	for _, w := range split {
		if end += w.Weight; int(b) < end {
			return int32(w.Variation)
		}
	}
	return int32(split[len(split)-1].Variation)
}

func snapshot(flags []string, segments ...string) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion": 1, "environment": "bench", "version": 1, "flags": [%s], "segments": [%s]}`,
		strings.Join(flags, ",\n"), strings.Join(segments, ",\n")))
}

func quotedKeys(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"%s%d"`, prefix, i)
	}
	return b.String()
}

// genAttrs is the request of the generated scenarios: a pro user in Germany (gen.Attributes,
// in a fixed order; the scenarios set Now to gen.Now).
func genAttrs() []Attr {
	names := []string{"plan", "country", "email", "appVersion", "platform", "accountId", "seats", "beta", "groups"}
	out := make([]Attr, 0, len(names))
	for _, n := range names {
		v := gen.Attributes[n]
		if i, ok := v.(int); ok {
			v = float64(i)
		}
		out = append(out, Attr{n, v})
	}
	return out
}

// Pinned answers of the generated scenarios (gen.Snapshot(1000, 1) for GenKey with genAttrs
// at gen.Now, Random GenRandom). A change to internal/gen or to evaluation semantics changes
// them: `go test ./bench/scenarios` prints the new values to copy here.
const (
	GenKey          = "user-4242"
	GenRandom       = 0x9e3779b9
	evalAllDigest   = "cce007f2cbdda14e"
	evalAllStatic   = 247
	evalAllTargeted = 346
	evalAllSplit    = 189
	evalAllDisabled = 59
	evalAllDefault  = 142
	evalAllPrereq   = 17
)

var (
	once sync.Once
	all  []*Scenario
)

// All returns the matrix in report order. The scenarios are shared: do not modify them.
func All() []*Scenario {
	once.Do(func() { all = build() })
	return all
}

func build() []*Scenario {
	user := "user-500"
	rollout := []Weight{{1, 25000}, {0, 75000}}
	split := []Weight{{0, 50000}, {1, 30000}, {2, 20000}}
	rolloutV := rolloutVariation("rollout", user, rollout)
	splitV := rolloutVariation("split", user, split)
	bools := []string{"false", "true"}
	abc := []string{`"a"`, `"b"`, `"c"`}

	return []*Scenario{
		{
			Name: "static", Title: "static flag", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "static", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"variation": 1}}`}),
			Flag: "static", Key: user,
			Want: Want{Variation: 1, Reason: core.ReasonStatic, Value: "true"},
		},
		{
			Name: "target-hit", Title: "individual target hit (1,000 targeted keys)", Kind: KindEvaluate,
			Snapshot: snapshot([]string{fmt.Sprintf(`{"key": "targeted", "enabled": true, "variations": [false, true], "offVariation": 0,
				"targets": [{"variation": 1, "values": [%s]}, {"variation": 0, "values": [%s]}],
				"fallthrough": {"variation": 0}}`, quotedKeys("user-", 0, 500), quotedKeys("user-", 500, 1000))}),
			Flag: "targeted", Key: "user-250",
			Want: Want{Variation: 1, Reason: core.ReasonTargetingMatch, Value: "true"},
		},
		{
			Name: "rule-match", Title: "single-clause rule", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "paying", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "plans", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]}], "variation": 1}],
				"fallthrough": {"variation": 0}}`}),
			Flag: "paying", Key: user, Attrs: []Attr{{"plan", "pro"}},
			Want: Want{Variation: 1, Reason: core.ReasonTargetingMatch, Value: "true"},
		},
		{
			Name: "rule-10-clauses", Title: "10-clause rule (all match)", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "ten", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "everything", "match": "all", "clauses": [
					{"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]},
					{"attribute": "country", "op": "in", "values": ["DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES"]},
					{"attribute": "email", "op": "endsWith", "values": ["@example.com"]},
					{"attribute": "email", "op": "startsWith", "values": ["jane"]},
					{"attribute": "platform", "op": "equals", "values": ["web"]},
					{"attribute": "seats", "op": "gte", "values": [10]},
					{"attribute": "seats", "op": "lt", "values": [1000]},
					{"attribute": "appVersion", "op": "semverGte", "values": ["4.2.0"]},
					{"attribute": "beta", "op": "equals", "values": [true]},
					{"attribute": "groups", "op": "contains", "values": ["adm"]}
				], "variation": 1}],
				"fallthrough": {"variation": 0}}`}),
			Flag: "ten", Key: user,
			Attrs: []Attr{{"plan", "pro"}, {"country", "DE"}, {"email", "jane.doe@example.com"},
				{"platform", "web"}, {"seats", 25.0}, {"appVersion", "4.3.1"}, {"beta", true},
				{"groups", []string{"eu", "admins"}}},
			Want: Want{Variation: 1, Reason: core.ReasonTargetingMatch, Value: "true"},
		},
		{
			Name: "rollout", Title: "25% rollout", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "rollout", "enabled": true, "variations": [false, true], "offVariation": 0,
				"fallthrough": {"rollout": {"variations": [{"variation": 1, "weight": 25000}, {"variation": 0, "weight": 75000}]}}}`}),
			Flag: "rollout", Key: user, Split: rollout,
			Want: Want{Variation: rolloutV, Reason: core.ReasonSplit, Value: bools[rolloutV]},
		},
		{
			Name: "split-3way", Title: "3-way split (50/30/20)", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "split", "enabled": true, "variations": ["a", "b", "c"], "offVariation": 0,
				"fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 50000}, {"variation": 1, "weight": 30000}, {"variation": 2, "weight": 20000}]}}}`}),
			Flag: "split", Key: user, Split: split,
			Want: Want{Variation: splitV, Reason: core.ReasonSplit, Value: abc[splitV]},
		},
		{
			Name: "segment-10k", Title: "10,000-key segment", Kind: KindEvaluate,
			Snapshot: snapshot([]string{`{"key": "beta", "enabled": true, "variations": [false, true], "offVariation": 0,
				"rules": [{"id": "beta-testers", "clauses": [{"op": "inSegment", "values": ["beta-testers"]}], "variation": 1}],
				"fallthrough": {"variation": 0}}`},
				fmt.Sprintf(`{"key": "beta-testers", "included": [%s]}`, quotedKeys("user-", 0, 10000))),
			Flag: "beta", Key: "user-5000",
			Want: Want{Variation: 1, Reason: core.ReasonTargetingMatch, Value: "true"},
		},
		{
			// pc-3 requires pc-2 requires pc-1 requires pc-0: three prerequisites deep.
			Name: "prerequisite-chain-3", Title: "prerequisite chain (3 deep)", Kind: KindEvaluate,
			Snapshot: snapshot([]string{
				`{"key": "pc-0", "enabled": true, "variations": [false, true], "offVariation": 0, "fallthrough": {"variation": 1}}`,
				`{"key": "pc-1", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-0", "variations": [1]}], "fallthrough": {"variation": 1}}`,
				`{"key": "pc-2", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-1", "variations": [1]}], "fallthrough": {"variation": 1}}`,
				`{"key": "pc-3", "enabled": true, "variations": [false, true], "offVariation": 0, "prerequisites": [{"flag": "pc-2", "variations": [1]}], "fallthrough": {"variation": 1}}`,
			}),
			Flag: "pc-3", Key: user,
			Want: Want{Variation: 1, Reason: core.ReasonDefault, Value: "true"},
		},
		{
			Name: "1000-flags", Title: "evaluate all of 1,000 generated flags", Kind: KindEvaluateAll,
			Snapshot: gen.Snapshot(1000, 1),
			Key:      GenKey, Attrs: genAttrs(), Now: gen.Now, Random: GenRandom,
			Want: Want{Flags: 1000, Digest: evalAllDigest, Reasons: map[core.Reason]int{
				core.ReasonStatic: evalAllStatic, core.ReasonTargetingMatch: evalAllTargeted,
				core.ReasonSplit: evalAllSplit, core.ReasonDisabled: evalAllDisabled,
				core.ReasonDefault: evalAllDefault, core.ReasonPrerequisiteFailed: evalAllPrereq,
			}},
		},
		{
			Name: "load-1000-flags", Title: "snapshot load, 1,000 flags", Kind: KindLoad,
			Snapshot: gen.Snapshot(1000, 1),
			Want:     Want{Flags: 1000},
		},
		{
			Name: "load-10000-flags", Title: "snapshot load, 10,000 flags", Kind: KindLoad,
			Snapshot: gen.Snapshot(10000, 1),
			Want:     Want{Flags: 10000},
		},
	}
}
