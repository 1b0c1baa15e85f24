package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/open-feature/flagd/core/pkg/evaluator"
	"github.com/open-feature/flagd/core/pkg/logger"
	"github.com/open-feature/flagd/core/pkg/store"
	"github.com/open-feature/flagd/core/pkg/sync"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// The generated snapshot as one flagd flag configuration (flagd's JSON schema with JSON Logic
// targeting), loaded with SetState into a fresh store as flagd does on a sync, evaluated with
// ResolveAllValues (flagd's bulk evaluation, what OFREP's evaluate-all serves).
//
// Variations are variants v0, v1, …; the fallthrough (or the off variation, for a disabled flag:
// flagd's DISABLED state is an error to every caller, not the off value) is defaultVariant;
// targets, rules and the fallthrough rollout become one "if" chain in order: targets are "in"
// over targetingKey, clauses JSON Logic (equals/in → in or ==, notEquals/notIn → !, some over a
// list attribute, contains → in over a string, startsWith/endsWith → starts_with/ends_with,
// lt… → <…, semver… → sem_ver, negate → ! with the attribute required present, as Vexil never
// matches a missing one), rollouts "fractional" over salt + "." + the bucket-by attribute, and
// each segment a shared "$evaluators" entry ($ref). Left out: prerequisites (flagd has none),
// schedules (flagd's one clock is its own, $flagd.timestamp, not the request's time), regex
// clauses (matches: no regex operator in flagd's JSON Logic), percentage of time, and flags
// that depend on one left out.

func flagdTranslate(sc *scenarios.Scenario) ([]byte, *Coverage, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	type obj = map[string]any
	cov := newCoverage(len(d.Flags))
	variant := func(i int) string { return "v" + strconv.Itoa(i) }
	v := func(name string) obj { return obj{"var": name} }
	present := func(name string) obj { return obj{"!=": []any{v(name), nil}} }
	// eachOf tests values against attribute a, any of them: over a list attribute, any of its
	// elements.
	eachOf := func(a string, values []any, test func(x any, val any) any) any {
		x := any(v(a))
		if isList(a) {
			x = v("")
		}
		var cs []any
		for _, val := range values {
			cs = append(cs, test(x, val))
		}
		t := anyOf("or", cs)
		if isList(a) {
			return obj{"some": []any{v(a), t}}
		}
		return t
	}
	clause := func(c *flagdoc.Clause, values []any) (any, error) {
		a := c.Attribute
		each := func(test func(x any, val any) any) any { return eachOf(a, values, test) }
		var out any
		negate := c.Negate
		switch c.Op {
		case "equals", "in", "notEquals", "notIn":
			strs := true
			for _, val := range values {
				_, ok := val.(string)
				strs = strs && ok
			}
			if strs { // one "in" over the list, not a test per value
				out = eachOf(a, []any{values}, func(x, vals any) any { return obj{"in": []any{x, vals}} })
			} else {
				out = each(func(x, val any) any { return obj{"==": []any{x, val}} })
			}
			if c.Op == "notEquals" || c.Op == "notIn" {
				negate = !negate
			}
		case "contains":
			out = each(func(x, val any) any { return obj{"in": []any{val, x}} })
		case "startsWith":
			out = each(func(x, val any) any { return obj{"starts_with": []any{x, val}} })
		case "endsWith":
			out = each(func(x, val any) any { return obj{"ends_with": []any{x, val}} })
		case "lt", "lte", "gt", "gte":
			op := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[c.Op]
			out = obj{"and": []any{present(a), each(func(x, val any) any { return obj{op: []any{x, val}} })}}
		case "semverEq", "semverLt", "semverLte", "semverGt", "semverGte":
			op := map[string]string{"semverEq": "=", "semverLt": "<", "semverLte": "<=", "semverGt": ">", "semverGte": ">="}[c.Op]
			out = each(func(x, val any) any { return obj{"sem_ver": []any{x, op, val}} })
		case "inSegment", "notInSegment":
			var cs []any
			for _, s := range values {
				cs = append(cs, obj{"$ref": s})
			}
			out = anyOf("or", cs)
			if c.Op == "notInSegment" {
				return obj{"!": out}, nil // the targeting key is never missing
			}
		case "matches":
			return nil, fmt.Errorf("regex clauses (matches: no regex operator in flagd's JSON Logic)")
		default:
			return nil, fmt.Errorf("operator %s", c.Op)
		}
		if negate {
			out = obj{"and": []any{present(a), obj{"!": out}}}
		}
		return out, nil
	}
	rule := func(match string, clauses []flagdoc.Clause) (any, error) {
		cs, err := translateClauses(clauses, clause)
		if err != nil {
			return nil, err
		}
		switch {
		case match == "any" && len(cs) == 0:
			return false, nil
		case match == "any":
			return anyOf("or", cs), nil
		case len(cs) == 0:
			return true, nil
		}
		return obj{"and": cs}, nil
	}
	evaluators := obj{}
	for _, s := range d.Segments {
		in := any(obj{"in": []any{v("targetingKey"), append([]string{}, s.Included...)}})
		var rules []any
		for _, sr := range s.Rules {
			r, err := rule(sr.Match, sr.Clauses)
			if err != nil {
				return nil, nil, fmt.Errorf("segment %s: %v", s.Key, err)
			}
			rules = append(rules, r)
		}
		if len(rules) > 0 {
			rest := anyOf("or", rules)
			if len(s.Excluded) > 0 {
				rest = obj{"and": []any{obj{"!": obj{"in": []any{v("targetingKey"), s.Excluded}}}, rest}}
			}
			in = obj{"or": []any{in, rest}}
		}
		evaluators[s.Key] = in
	}
	flags := obj{}
	for _, f := range d.Flags {
		reason := commonLeftOut(&f)
		switch {
		case len(f.Prerequisites) > 0:
			reason = "prerequisites (flagd has none)"
		case f.Schedule != nil:
			reason = "schedule (flagd's clock is its own, not the request's time)"
		}
		serve := func(s *flagdoc.Serve) any {
			if s.Rollout == nil {
				return variant(*s.Variation)
			}
			args := []any{obj{"cat": []any{rolloutSalt(s.Rollout, &f) + ".", v(bucketBy(s.Rollout))}}}
			for _, w := range s.Rollout.Variations {
				args = append(args, []any{variant(w.Variation), w.Weight})
			}
			return obj{"fractional": args}
		}
		var chain []any
		for _, t := range f.Targets {
			chain = append(chain, obj{"in": []any{v("targetingKey"), t.Values}}, variant(t.Variation))
		}
		for i := range f.Rules {
			r := &f.Rules[i]
			cond, err := rule(r.Match, r.Clauses)
			if err != nil {
				if reason == "" {
					reason = err.Error()
				}
				break
			}
			chain = append(chain, cond, serve(ruleServe(r)))
		}
		variants := obj{}
		for i, val := range f.Variations {
			variants[variant(i)] = val
		}
		flag := obj{"state": "ENABLED", "variants": variants, "defaultVariant": variant(*f.OffVariation)}
		if f.Enabled {
			if f.Fallthrough.Rollout == nil {
				flag["defaultVariant"] = variant(*f.Fallthrough.Variation)
				if len(chain) > 0 {
					flag["targeting"] = obj{"if": append(chain, variant(*f.Fallthrough.Variation))}
				}
			} else if len(chain) > 0 {
				flag["targeting"] = obj{"if": append(chain, serve(f.Fallthrough))}
			} else {
				flag["targeting"] = serve(f.Fallthrough)
			}
		}
		if cov.admit(&f, reason) {
			flags[f.Key] = flag
		}
	}
	payload, err := json.Marshal(obj{"flags": flags, "$evaluators": evaluators})
	return payload, cov, err
}

// flagdLoad loads a flag configuration into a fresh evaluator and store, as flagd does on a
// sync.
func flagdLoad(payload []byte) (*evaluator.JSON, *store.State, error) {
	s := store.NewFlags()
	ev := evaluator.NewJSON(logger.NewLogger(nil, false), s)
	if _, _, err := ev.SetState(sync.DataSync{FlagData: string(payload), Source: "bench"}); err != nil {
		return nil, nil, err
	}
	return ev, s, nil
}

func flagdLoadCase(sc *scenarios.Scenario) (*LoadCase, error) {
	payload, cov, err := flagdTranslate(sc)
	if err != nil {
		return nil, err
	}
	return &LoadCase{Coverage: cov, Payload: payload, Load: func() (int, error) {
		_, s, err := flagdLoad(payload)
		if err != nil {
			return 0, err
		}
		all, _, err := s.GetAll(context.Background())
		return len(all), err
	}}, nil
}

func flagdAll(sc *scenarios.Scenario) (*AllCase, error) {
	lc, err := flagdLoadCase(sc)
	if err != nil {
		return nil, err
	}
	ev, _, err := flagdLoad(lc.Payload)
	if err != nil {
		return nil, err
	}
	evalCtx := flagdContext(sc.Key, sc.Attrs)
	ctx := context.Background()
	return &AllCase{
		Coverage: lc.Coverage,
		Eval:     func() { _, _, _ = ev.ResolveAllValues(ctx, "bench", evalCtx) },
		Answers: func() (map[string]string, error) {
			values, _, err := ev.ResolveAllValues(ctx, "bench", evalCtx)
			if err != nil {
				return nil, err
			}
			out := map[string]string{}
			for _, r := range values {
				if r.Error != nil {
					return nil, fmt.Errorf("%s: %v", r.FlagKey, r.Error)
				}
				if out[r.FlagKey], err = jsonText(r.Value); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
	}, nil
}

// flagdContext is the evaluation context map of the scenario's attributes for key (lists as
// []any, as JSON Logic reads them).
func flagdContext(key string, attrs []scenarios.Attr) map[string]any {
	m := map[string]any{"targetingKey": key}
	for _, a := range attrs {
		if list, ok := a.Value.([]string); ok {
			vs := make([]any, len(list))
			for i, s := range list {
				vs[i] = s
			}
			m[a.Name] = vs
			continue
		}
		m[a.Name] = a.Value
	}
	return m
}
