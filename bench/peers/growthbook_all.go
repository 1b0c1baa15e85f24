package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	gb "github.com/growthbook/growthbook-golang"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// The generated snapshot as a GrowthBook SDK payload ({"features": {…}, "savedGroups": {…}},
// what GrowthBook's API serves), loaded as the SDK loads an API response
// (Client.UpdateFromApiResponseJSON on a new client), evaluated with EvalFeature per flag on a
// client carrying the context's attributes.
//
// A feature's rules are tried in order, the first that applies serves, and defaultValue is the
// fallthrough; so: a disabled flag is its off value as defaultValue and no rules; each
// prerequisite a first rule forcing the off value when the parent's value is not a listed
// variation's (parentConditions); targets force rules on "id" (the targeting key) $in the
// keys; rules force rules (a variation) or experiment rules (a rollout: variations, weights,
// hashAttribute from bucketBy, seed from the salt) under a condition. Clauses are conditions:
// equals/in → $in (which GrowthBook also applies element-wise to a list attribute),
// notEquals/notIn → $nin, contains/startsWith/endsWith → $regex of the quoted value (under
// $elemMatch for a list attribute), matches → $regex (Go's regexp, as Vexil), lt… → $lt…,
// semver… → $vlt…, negate → $not; negations and comparisons also require $exists, since
// Vexil never matches a missing attribute. A segment is a condition: "id" $inGroup its
// included keys (a saved group), or $notInGroup its excluded keys and any of its rules.
// Left out: schedules (no time window in feature rules), percentage of time, and flags that
// depend on one left out.

func growthBookTranslate(sc *scenarios.Scenario) ([]byte, *Coverage, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	type obj = map[string]any
	cov := newCoverage(len(d.Flags))
	attr := keyAs("id")
	exists := func(a string) obj { return obj{a: obj{"$exists": true}} }
	segCond := map[string]any{}
	clause := func(c *flagdoc.Clause, values []any) (any, error) {
		a := attr(c.Attribute)
		regex := func(prefix, suffix string) any {
			var cs []any
			for _, v := range values {
				re := prefix + regexp.QuoteMeta(fmt.Sprint(v)) + suffix
				if prefix == "" && suffix == "" && c.Op == "matches" {
					re = fmt.Sprint(v)
				}
				if isList(c.Attribute) {
					cs = append(cs, obj{a: obj{"$elemMatch": obj{"$regex": re}}})
				} else {
					cs = append(cs, obj{a: obj{"$regex": re}})
				}
			}
			return anyOf("$or", cs)
		}
		compare := func(op string) any {
			var cs []any
			for _, v := range values {
				cs = append(cs, obj{"$and": []any{exists(a), obj{a: obj{op: v}}}})
			}
			return anyOf("$or", cs)
		}
		var out any
		negate := c.Negate
		switch c.Op {
		case "equals", "in":
			out = obj{a: obj{"$in": values}}
		case "notEquals", "notIn":
			out, negate = obj{a: obj{"$in": values}}, !negate
		case "contains", "matches":
			out = regex("", "")
		case "startsWith":
			out = regex("^", "")
		case "endsWith":
			out = regex("", "$")
		case "lt", "lte", "gt", "gte":
			out = compare("$" + c.Op)
		case "semverEq", "semverLt", "semverLte", "semverGt", "semverGte":
			out = compare(map[string]string{"semverEq": "$veq", "semverLt": "$vlt", "semverLte": "$vlte", "semverGt": "$vgt", "semverGte": "$vgte"}[c.Op])
		case "inSegment", "notInSegment":
			var cs []any
			for _, v := range values {
				cs = append(cs, segCond[v.(string)])
			}
			out = anyOf("$or", cs)
			if c.Op == "notInSegment" {
				return obj{"$not": out}, nil // the targeting key is never missing
			}
		default:
			return nil, fmt.Errorf("operator %s", c.Op)
		}
		if negate {
			out = obj{"$and": []any{exists(a), obj{"$not": out}}}
		}
		return out, nil
	}
	rule := func(match string, clauses []flagdoc.Clause) (any, error) {
		cs, err := translateClauses(clauses, clause)
		if err != nil {
			return nil, err
		}
		if match == "any" {
			if len(cs) == 0 {
				return obj{"$or": []any{}}, nil
			}
			return anyOf("$or", cs), nil
		}
		if len(cs) == 0 {
			return obj{}, nil
		}
		return obj{"$and": cs}, nil
	}
	groups := obj{}
	for _, s := range d.Segments {
		// A saved group must be a list: a null one matches nobody, even under $notInGroup.
		groups[s.Key+"/included"], groups[s.Key+"/excluded"] = append([]string{}, s.Included...), append([]string{}, s.Excluded...)
		var rules []any
		for _, sr := range s.Rules {
			r, err := rule(sr.Match, sr.Clauses)
			if err != nil {
				return nil, nil, fmt.Errorf("segment %s: %v", s.Key, err)
			}
			rules = append(rules, r)
		}
		in := obj{"id": obj{"$inGroup": s.Key + "/included"}}
		if len(rules) > 0 {
			in = obj{"$or": []any{in, obj{"$and": []any{obj{"id": obj{"$notInGroup": s.Key + "/excluded"}}, anyOf("$or", rules)}}}}
		}
		segCond[s.Key] = in
	}
	features := obj{}
	for _, f := range d.Flags {
		reason := commonLeftOut(&f)
		if f.Schedule != nil {
			reason = "schedule (no time window in GrowthBook's feature rules)"
		}
		off := f.Variations[*f.OffVariation]
		serve := func(s *flagdoc.Serve, cond any) obj {
			if s.Rollout == nil {
				return obj{"condition": cond, "force": f.Variations[*s.Variation]}
			}
			var vs, ws []any
			for _, w := range s.Rollout.Variations {
				vs = append(vs, f.Variations[w.Variation])
				ws = append(ws, float64(w.Weight)/100000)
			}
			return obj{"condition": cond, "key": f.Key, "seed": rolloutSalt(s.Rollout, &f), "hashAttribute": attr(bucketBy(s.Rollout)),
				"variations": vs, "weights": ws, "coverage": 1}
		}
		var rules []any
		for _, p := range f.Prerequisites {
			var vals []any
			for _, v := range p.Variations {
				vals = append(vals, d.flag(p.Flag).Variations[v])
			}
			rules = append(rules, obj{"force": off, "parentConditions": []any{
				obj{"id": p.Flag, "condition": obj{"value": obj{"$nin": vals}}}}})
		}
		for _, t := range f.Targets {
			rules = append(rules, obj{"condition": obj{"id": obj{"$in": t.Values}}, "force": f.Variations[t.Variation]})
		}
		for i := range f.Rules {
			r := &f.Rules[i]
			cond, err := rule(r.Match, r.Clauses)
			if err != nil {
				reason = err.Error()
				break
			}
			rules = append(rules, serve(ruleServe(r), cond))
		}
		feature := obj{"defaultValue": off}
		switch {
		case !f.Enabled:
		case f.Fallthrough.Rollout == nil:
			feature["defaultValue"], feature["rules"] = f.Variations[*f.Fallthrough.Variation], rules
		default:
			feature["rules"] = append(rules, serve(f.Fallthrough, obj{}))
		}
		if cov.admit(&f, reason) {
			features[f.Key] = feature
		}
	}
	payload, err := json.Marshal(obj{"features": features, "savedGroups": groups, "dateUpdated": "2026-11-23T12:00:00Z"})
	return payload, cov, err
}

// growthBookLoad loads an API payload into a new client, as the SDK does with an API response.
func growthBookLoad(payload []byte) (*gb.Client, error) {
	c, err := gb.NewClient(context.Background())
	if err != nil {
		return nil, err
	}
	if err := c.UpdateFromApiResponseJSON(string(payload)); err != nil {
		return nil, err
	}
	return c, nil
}

func growthBookLoadCase(sc *scenarios.Scenario) (*LoadCase, error) {
	payload, cov, err := growthBookTranslate(sc)
	if err != nil {
		return nil, err
	}
	return &LoadCase{Coverage: cov, Payload: payload, Load: func() (int, error) {
		c, err := growthBookLoad(payload)
		if err != nil {
			return 0, err
		}
		return len(c.Features()), nil
	}}, nil
}

func growthBookAll(sc *scenarios.Scenario) (*AllCase, error) {
	lc, err := growthBookLoadCase(sc)
	if err != nil {
		return nil, err
	}
	base, err := growthBookLoad(lc.Payload)
	if err != nil {
		return nil, err
	}
	attrs := gb.Attributes{"id": sc.Key}
	for _, a := range sc.Attrs {
		attrs[a.Name] = a.Value
	}
	c, err := base.WithAttributes(attrs)
	if err != nil {
		return nil, err
	}
	keys, err := keptKeys(sc, lc.Coverage)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	var sink *gb.FeatureResult
	return &AllCase{
		Coverage: lc.Coverage,
		Eval: func() {
			for _, k := range keys {
				sink = c.EvalFeature(ctx, k)
			}
		},
		Answers: func() (map[string]string, error) {
			out := map[string]string{}
			for _, k := range keys {
				r := c.EvalFeature(ctx, k)
				v, err := jsonText(r.Value)
				if err != nil {
					return nil, err
				}
				out[k] = v
			}
			_ = sink
			return out, nil
		},
	}, nil
}
