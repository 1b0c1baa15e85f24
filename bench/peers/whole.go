package peers

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// The whole-snapshot scenarios (evaluate-all over 1,000 flags, load of 1,000 and 10,000) give
// each peer the generated snapshot (internal/gen) translated into its own format, flag by flag.
// A construct a peer cannot express faithfully leaves that flag out for that peer, and so does
// a prerequisite on a flag left out; the translation counts what it kept and why it left the
// rest out (Coverage), and the benchmarks report the count.
//
// The translations read the snapshot into sync/flagdoc's documents (the daemon's types for the
// same format), clause values decoded to Go values (strings, float64s, bools) as they test and
// re-encode them. Attribute types come from the generated context schema (gen.Attributes:
// "groups" is the one list), where a peer's format needs them ahead of the context.

// snapshot is the snapshot JSON as the translations read it (core/SNAPSHOT.md): its flags and
// segments; the rest of the document is not needed.
type snapshot struct {
	Flags    []flagdoc.Flag    `json:"flags"`
	Segments []flagdoc.Segment `json:"segments"`
}

func readSnapshot(data []byte) (*snapshot, error) {
	var d snapshot
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// flag returns the flag with key (nil when none).
func (d *snapshot) flag(key string) *flagdoc.Flag {
	for i := range d.Flags {
		if d.Flags[i].Key == key {
			return &d.Flags[i]
		}
	}
	return nil
}

// keptKeys returns the keys of the flags of sc's snapshot that cov kept, in document order (as
// the report lists flags): what an evaluate-all case asks its peer for.
func keptKeys(sc *scenarios.Scenario, cov *Coverage) ([]string, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, f := range d.Flags {
		if cov.Kept(f.Key) {
			keys = append(keys, f.Key)
		}
	}
	return keys, nil
}

// translateClauses translates clauses in order with clause, which gets each with its values
// decoded; it stops at the first error.
func translateClauses[T any](clauses []flagdoc.Clause, clause func(c *flagdoc.Clause, values []any) (T, error)) ([]T, error) {
	out := make([]T, 0, len(clauses))
	for i := range clauses {
		c := &clauses[i]
		values := make([]any, len(c.Values))
		for j, raw := range c.Values {
			if err := json.Unmarshal(raw, &values[j]); err != nil {
				return nil, fmt.Errorf("clause on %s: values[%d]: %v", c.Attribute, j, err)
			}
		}
		t, err := clause(c, values)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ruleServe is what rule r serves, as a Serve (flagdoc inlines it in the rule).
func ruleServe(r *flagdoc.Rule) *flagdoc.Serve {
	return &flagdoc.Serve{Variation: r.Variation, Rollout: r.Rollout}
}

// bucketBy is rollout r's bucket-by attribute (default the targeting key).
func bucketBy(r *flagdoc.Rollout) string {
	if r.BucketBy == "" {
		return "targetingKey"
	}
	return r.BucketBy
}

// rolloutSalt is rollout r's salt: its own, else flag f's, else f's key.
func rolloutSalt(r *flagdoc.Rollout, f *flagdoc.Flag) string {
	switch {
	case r.Salt != "":
		return r.Salt
	case f.Salt != "":
		return f.Salt
	}
	return f.Key
}

// keyAs returns the attribute naming of a peer whose context calls the targeting key key
// ("key", "id", "userId"); every other attribute keeps its name.
func keyAs(key string) func(name string) string {
	return func(name string) string {
		if name == "targetingKey" {
			return key
		}
		return name
	}
}

// anyOf is the disjunction of conditions cs in a peer's JSON logic, under its operator or
// ("or", "$or"): the one condition itself when there is just one.
func anyOf(or string, cs []any) any {
	if len(cs) == 1 {
		return cs[0]
	}
	return map[string]any{or: cs}
}

// flipped is a copy of literal lit (a peer's clause as a JSON object) with its boolean
// negation field flipped, for dnfNot.
func flipped(lit map[string]any, field string) map[string]any {
	out := maps.Clone(lit)
	out[field] = !lit[field].(bool)
	return out
}

// isList reports whether the generated context schema gives attribute name a list of strings.
func isList(name string) bool {
	_, ok := gen.Attributes[name].([]string)
	return ok
}

// Coverage is what a translation kept of a snapshot: Flags of Total translated, and per
// reason how many were left out.
type Coverage struct {
	Total, Flags int
	LeftOut      map[string]int
	kept         map[string]bool
}

func newCoverage(total int) *Coverage {
	return &Coverage{Total: total, LeftOut: map[string]int{}, kept: map[string]bool{}}
}

// admit decides flag f: left out for reason (when not ""), or for a prerequisite left out,
// else kept. It returns whether f is kept. Prerequisites come before their dependents in a
// generated snapshot, so deciding flags in document order sees every prerequisite first.
func (c *Coverage) admit(f *flagdoc.Flag, reason string) bool {
	if reason == "" {
		for _, p := range f.Prerequisites {
			if !c.kept[p.Flag] {
				reason = "a prerequisite left out"
			}
		}
	}
	if reason != "" {
		c.LeftOut[reason]++
		return false
	}
	c.kept[f.Key] = true
	c.Flags++
	return true
}

// Kept reports whether flag key was translated.
func (c *Coverage) Kept(key string) bool { return c.kept[key] }

// String says what was translated: "950/1000 flags (left out: 25 schedule, …)".
func (c *Coverage) String() string {
	s := fmt.Sprintf("%d/%d flags", c.Flags, c.Total)
	if len(c.LeftOut) == 0 {
		return s
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(c.LeftOut)) {
		parts = append(parts, fmt.Sprintf("%d %s", c.LeftOut[r], r))
	}
	return s + " (left out: " + strings.Join(parts, "; ") + ")"
}

// commonLeftOut is what no peer expresses: a random gate on each check.
func commonLeftOut(f *flagdoc.Flag) string {
	if f.PercentageOfTime != nil {
		return "percentage of time (a random gate on each check)"
	}
	return ""
}

// Expected is, per flag key, the answers (canonical JSON) a peer may give for the scenario's
// context: Vexil's value; where Vexil's answer came from a rollout, any value of that rollout
// (peers bucket with their own hashes); where a prerequisite came from a rollout, also the
// flag's off value or what the flag serves with the prerequisite met.
type Expected map[string][]string

// expected computes the answers of sc's snapshot for sc's context with the native core.
func expected(sc *scenarios.Scenario) (Expected, error) {
	ev, err := core.Load(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	// The same snapshot without prerequisites: what a flag serves once they are met.
	var raw map[string]any
	if err := json.Unmarshal(sc.Snapshot, &raw); err != nil {
		return nil, err
	}
	for _, f := range raw["flags"].([]any) {
		delete(f.(map[string]any), "prerequisites")
	}
	stripped, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	evMet, err := core.Load(stripped)
	if err != nil {
		return nil, err
	}
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	results := func(ev *core.Evaluator) []core.Result {
		ctx := ev.NewContext()
		sc.Context(ctx)
		return ev.EvaluateAll(ctx, nil)
	}
	all, met := results(ev), results(evMet)
	if msg := sc.CheckAll(all); msg != "" {
		return nil, fmt.Errorf("the native core: %s", msg)
	}
	// values is what a result may be in a peer: its value, or its rollout's values.
	values := func(ev *core.Evaluator, r core.Result) []string {
		f := &ev.Snapshot().Flags[r.Flag]
		serve := f.Fallthrough
		if r.Rule >= 0 {
			serve = f.Rules[r.Rule].Serve
		}
		// A SPLIT without a rule or a rollout is the percentage-of-time gate, which no peer
		// expresses.
		if r.Reason() != core.ReasonSplit || serve.Rollout == nil {
			return []string{canonical(ev.Value(r, "null"))}
		}
		var out []string
		for _, w := range serve.Rollout.Variations {
			out = append(out, canonical(f.Variations[w.Variation].JSON))
		}
		return out
	}
	out := Expected{}
	for i, f := range d.Flags {
		want := values(ev, all[i])
		for _, p := range f.Prerequisites {
			if all[ev.FlagIndex(p.Flag)].Reason() == core.ReasonSplit {
				want = append(values(evMet, met[i]), canonical(ev.Value(core.Result{Flag: int32(i), Variation: int32(*f.OffVariation)}, "null")))
			}
		}
		sort.Strings(want)
		out[f.Key] = slices.Compact(want)
	}
	return out, nil
}

// canonical re-encodes JSON text with encoding/json (object keys sorted, numbers as Go
// prints float64), so that values from every engine compare as text.
func canonical(text string) string {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return text
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// check compares a peer's answers (flag key → served value as JSON) with want, for every flag
// cov kept: each must be one of the expected values, and no flag may be missing.
func (want Expected) check(cov *Coverage, got map[string]string) error {
	var wrong []string
	n := 0
	for key, ok := range want {
		if !cov.Kept(key) {
			continue
		}
		n++
		g, found := got[key]
		if !found {
			wrong = append(wrong, fmt.Sprintf("%s: no answer", key))
			continue
		}
		if g = canonical(g); !slices.Contains(ok, g) {
			wrong = append(wrong, fmt.Sprintf("%s: served %s, want %s", key, g, strings.Join(ok, " or ")))
		}
	}
	if n != cov.Flags || len(got) != cov.Flags {
		wrong = append(wrong, fmt.Sprintf("%d answers for %d translated flags", len(got), cov.Flags))
	}
	if len(wrong) > 0 {
		sort.Strings(wrong)
		n := len(wrong)
		if n > 10 {
			wrong = append(wrong[:10], fmt.Sprintf("and %d more", n-10))
		}
		return fmt.Errorf("%d wrong answers: %s", n, strings.Join(wrong, "; "))
	}
	return nil
}

// AllCase is the evaluate-all scenario prepared for one peer.
type AllCase struct {
	// Coverage says which flags were translated.
	Coverage *Coverage
	// Eval evaluates every translated flag for the scenario's context once, the way an
	// application asks the peer's SDK for all flags; it is what the benchmark times.
	Eval func()
	// Answers evaluates every translated flag for the scenario's context and returns the
	// served values as JSON by flag key.
	Answers func() (map[string]string, error)
	// Close releases what the case holds; may be nil.
	Close func()
}

// LoadCase is a load scenario prepared for one peer: the translated snapshot in the peer's
// own wire format, and how a host of that peer loads it.
type LoadCase struct {
	Coverage *Coverage
	// Payload is the translated snapshot as the peer's service would send it.
	Payload []byte
	// Load parses and prepares Payload into a fresh evaluator, as the peer's SDK does on
	// receipt, and returns how many flags it holds.
	Load func() (int, error)
}

// exact counts the flags cov kept whose answer is one value (not decided by a rollout).
func (want Expected) exact(cov *Coverage) int {
	n := 0
	for key, vs := range want {
		if cov.Kept(key) && len(vs) == 1 {
			n++
		}
	}
	return n
}

// CheckAll verifies that c answers sc's context as Vexil does (see Expected).
func CheckAll(sc *scenarios.Scenario, c *AllCase) error {
	want, err := expected(sc)
	if err != nil {
		return err
	}
	got, err := c.Answers()
	if err != nil {
		return err
	}
	return want.check(c.Coverage, got)
}

// CheckLoad verifies that one load of c holds every translated flag.
func CheckLoad(c *LoadCase) error {
	n, err := c.Load()
	if err != nil {
		return err
	}
	if n != c.Coverage.Flags {
		return fmt.Errorf("loaded %d flags, translated %d", n, c.Coverage.Flags)
	}
	return nil
}

// dnf is a condition in disjunctive normal form: any of the conjunctions, each all of its
// literals. Peers whose rules are conjunctions (LaunchDarkly, Unleash) turn Vexil's "any"
// rules, semverGte/Lte and negations into several rules serving the same thing.
type dnf[T any] [][]T

// dnfTrue and dnfFalse are the conditions that match every context and none.
func dnfTrue[T any]() dnf[T] { return dnf[T]{{}} }

func dnfLit[T any](lits ...T) dnf[T] {
	out := dnf[T]{}
	for _, l := range lits {
		out = append(out, []T{l})
	}
	return out
}

func dnfAnd[T any](a, b dnf[T]) dnf[T] {
	out := dnf[T]{}
	for _, x := range a {
		for _, y := range b {
			out = append(out, append(slices.Clone(x), y...))
		}
	}
	return out
}

func dnfOr[T any](a, b dnf[T]) dnf[T] { return append(slices.Clone(a), b...) }

// dnfNot negates a with neg negating one literal (De Morgan).
func dnfNot[T any](a dnf[T], neg func(T) T) dnf[T] {
	out := dnfTrue[T]()
	for _, conj := range a {
		alt := dnf[T]{}
		for _, l := range conj {
			alt = append(alt, []T{neg(l)})
		}
		out = dnfAnd(out, alt)
	}
	return out
}

// ruleDNF translates a rule's clauses with clause (see translateClauses) and combines them by
// the rule's match mode.
func ruleDNF[T any](match string, clauses []flagdoc.Clause, clause func(c *flagdoc.Clause, values []any) (dnf[T], error)) (dnf[T], error) {
	cs, err := translateClauses(clauses, clause)
	if err != nil {
		return nil, err
	}
	if match == "any" {
		out := dnf[T]{}
		for _, c := range cs {
			out = dnfOr(out, c)
		}
		return out, nil
	}
	out := dnfTrue[T]()
	for _, c := range cs {
		out = dnfAnd(out, c)
	}
	return out, nil
}
