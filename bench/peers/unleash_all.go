package peers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	unleashsdk "github.com/Unleash/unleash-client-go/v4"
	"github.com/Unleash/unleash-client-go/v4/api"
	ucontext "github.com/Unleash/unleash-client-go/v4/context"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// The generated snapshot as Unleash's client API features response, served over real HTTP to
// the Go client (as for the single-flag scenarios); evaluate-all asks GetVariant of every
// toggle, and a load is what the client does with a fetched response (decode it, map features
// and segments).
//
// Every flag becomes a toggle whose variants v0, v1, … carry the variations as JSON payloads,
// served by strategy variants: each target, each rule and the fallthrough is a "default"
// strategy, in order, with constraints and the variant(s) it serves (a rollout: the variants
// with their weights, stickiness from bucketBy, group id from the salt). The first strategy
// whose constraints hold serves, as Vexil's first matching rule. Unleash constraints are a
// conjunction, so a rule matching "any" of its clauses, semverGte/semverLte (SEMVER_GT or
// SEMVER_EQ) and negations spread over several strategies serving the same thing; a segment
// (included keys, or not excluded and any rule) is spread the same way into the strategies of
// a rule using it. A prerequisite is a dependency on the parent's variant (Unleash's
// dependencies are one level deep, as the generator's are). A disabled toggle, or one whose
// dependency fails, answers the disabled variant, for which the application serves the flag's
// off value. A schedule is two constraints on currentTime (which the context sets to the
// request's time) on every strategy. Context fields are strings: numbers and booleans are given
// as text and compared with NUM_… operators or as "true"/"false". Left out: clauses on a list
// attribute (no list-valued context fields), regex clauses (no regex operator), percentage of
// time, and flags that depend on one left out.

// unleashLit is one constraint.
type unleashLit = map[string]any

func unleashTranslate(sc *scenarios.Scenario) ([]byte, map[string]string, *Coverage, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, nil, nil, err
	}
	type obj = map[string]any
	cov := newCoverage(len(d.Flags))
	field := keyAs("userId")
	text := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return fmt.Sprint(v)
	}
	lit := func(name, op string, values ...any) unleashLit {
		strs := make([]string, len(values))
		for i, v := range values {
			strs[i] = text(v)
		}
		c := unleashLit{"contextName": field(name), "operator": op, "values": strs, "inverted": false}
		if len(strs) == 1 {
			c["value"] = strs[0]
		}
		return c
	}
	neg := func(c unleashLit) unleashLit { return flipped(c, "inverted") }
	segDNF := map[string]dnf[unleashLit]{}
	clause := func(c *flagdoc.Clause, values []any) (dnf[unleashLit], error) {
		if isList(c.Attribute) {
			return nil, fmt.Errorf("a clause on a list attribute (Unleash context fields are strings)")
		}
		// each is any of c's values under a one-value operator.
		each := func(op string) dnf[unleashLit] {
			out := dnf[unleashLit]{}
			for _, v := range values {
				out = append(out, []unleashLit{lit(c.Attribute, op, v)})
			}
			return out
		}
		var out dnf[unleashLit]
		negate := c.Negate
		switch c.Op {
		case "equals", "in", "notEquals", "notIn":
			if _, num := values[0].(float64); num {
				out = each("NUM_EQ")
			} else {
				out = dnfLit(lit(c.Attribute, "IN", values...))
			}
			if c.Op == "notEquals" || c.Op == "notIn" {
				negate = !negate
			}
		case "contains", "startsWith", "endsWith":
			op := map[string]string{"contains": "STR_CONTAINS", "startsWith": "STR_STARTS_WITH", "endsWith": "STR_ENDS_WITH"}[c.Op]
			out = dnfLit(lit(c.Attribute, op, values...))
		case "lt", "lte", "gt", "gte":
			out = each(map[string]string{"lt": "NUM_LT", "lte": "NUM_LTE", "gt": "NUM_GT", "gte": "NUM_GTE"}[c.Op])
		case "semverEq", "semverLt", "semverGt":
			out = each(map[string]string{"semverEq": "SEMVER_EQ", "semverLt": "SEMVER_LT", "semverGt": "SEMVER_GT"}[c.Op])
		case "semverGte":
			out = dnfOr(each("SEMVER_GT"), each("SEMVER_EQ"))
		case "semverLte":
			out = dnfOr(each("SEMVER_LT"), each("SEMVER_EQ"))
		case "inSegment", "notInSegment":
			out = dnf[unleashLit]{}
			for _, s := range values {
				sd, ok := segDNF[s.(string)]
				if !ok {
					return nil, fmt.Errorf("a segment left out: a clause on a list attribute (Unleash context fields are strings)")
				}
				out = dnfOr(out, sd)
			}
			if c.Op == "notInSegment" {
				negate = !negate
			}
		case "matches":
			return nil, fmt.Errorf("regex clauses (matches: no regex operator in Unleash)")
		default:
			return nil, fmt.Errorf("operator %s", c.Op)
		}
		if negate {
			out = dnfNot(out, neg)
		}
		return out, nil
	}
	for _, s := range d.Segments {
		in := dnfLit(lit("targetingKey", "IN", toAny(s.Included)...))
		rest := dnf[unleashLit]{}
		ok := true
		for _, sr := range s.Rules {
			r, err := ruleDNF(sr.Match, sr.Clauses, clause)
			if err != nil {
				ok = false
				break
			}
			rest = dnfOr(rest, r)
		}
		if !ok {
			continue // flags using it are left out
		}
		if len(s.Excluded) > 0 {
			rest = dnfAnd(dnfLit(neg(lit("targetingKey", "IN", toAny(s.Excluded)...))), rest)
		}
		segDNF[s.Key] = dnfOr(in, rest)
	}
	offValues := map[string]string{}
	var features []any
	for _, f := range d.Flags {
		reason := commonLeftOut(&f)
		// A schedule holds on every strategy: currentTime not before notBefore, and before
		// notAfter.
		var window []unleashLit
		if w := f.Schedule; w != nil {
			if w.NotBefore != "" {
				window = append(window, neg(lit("currentTime", "DATE_BEFORE", w.NotBefore)))
			}
			if w.NotAfter != "" {
				window = append(window, lit("currentTime", "DATE_BEFORE", w.NotAfter))
			}
		}
		variant := func(i, weight int, stickiness string) obj {
			b, _ := json.Marshal(f.Variations[i])
			return obj{"name": "v" + strconv.Itoa(i), "weight": weight, "weightType": "variable", "stickiness": stickiness,
				"payload": obj{"type": "json", "value": string(b)}}
		}
		var strategies []any
		add := func(cond dnf[unleashLit], s *flagdoc.Serve) {
			var variants []any
			groupID := f.Key
			if s.Rollout == nil {
				variants = append(variants, variant(*s.Variation, 1000, "default"))
			} else {
				groupID = rolloutSalt(s.Rollout, &f)
				for _, w := range s.Rollout.Variations {
					variants = append(variants, variant(w.Variation, w.Weight/100, field(bucketBy(s.Rollout))))
				}
			}
			for _, conj := range cond {
				strategies = append(strategies, obj{"name": "default", "constraints": append(slices.Clone(window), conj...),
					"parameters": obj{"groupId": groupID}, "variants": variants})
			}
		}
		for _, t := range f.Targets {
			v := t.Variation
			add(dnfLit(lit("targetingKey", "IN", toAny(t.Values)...)), &flagdoc.Serve{Variation: &v})
		}
		for i := range f.Rules {
			r := &f.Rules[i]
			cond, err := ruleDNF(r.Match, r.Clauses, clause)
			if err != nil {
				if reason == "" {
					reason = err.Error()
				}
				break
			}
			if r.Rollout != nil && anyWeightBelow(r.Rollout, 100) {
				reason = "a rollout weight below 0.1% (Unleash weights are thousandths)"
			}
			add(cond, ruleServe(r))
		}
		add(dnfTrue[unleashLit](), f.Fallthrough)
		feature := obj{"name": f.Key, "type": "release", "enabled": f.Enabled, "strategies": strategies}
		var deps []any
		for _, p := range f.Prerequisites {
			var names []string
			for _, v := range p.Variations {
				names = append(names, "v"+strconv.Itoa(v))
			}
			deps = append(deps, obj{"feature": p.Flag, "variants": names, "enabled": true})
		}
		if len(deps) > 0 {
			feature["dependencies"] = deps
		}
		if cov.admit(&f, reason) {
			features = append(features, feature)
			b, _ := json.Marshal(f.Variations[*f.OffVariation])
			offValues[f.Key] = string(b)
		}
	}
	payload, err := json.Marshal(obj{"version": 2, "features": features, "segments": []any{}})
	return payload, offValues, cov, err
}

func anyWeightBelow(r *flagdoc.Rollout, w int) bool {
	for _, v := range r.Variations {
		if v.Weight%w != 0 {
			return true
		}
	}
	return false
}

func toAny(strs []string) []any {
	out := make([]any, len(strs))
	for i, s := range strs {
		out[i] = s
	}
	return out
}

func unleashLoadCase(sc *scenarios.Scenario) (*LoadCase, error) {
	payload, _, cov, err := unleashTranslate(sc)
	if err != nil {
		return nil, err
	}
	return &LoadCase{Coverage: cov, Payload: payload, Load: func() (int, error) {
		// What the client's repository does with a fetched response.
		var resp api.FeatureResponse
		if err := json.Unmarshal(payload, &resp); err != nil {
			return 0, err
		}
		features := resp.FeatureMap()
		_ = resp.SegmentsMap()
		return len(features), nil
	}}, nil
}

func unleashAll(sc *scenarios.Scenario) (*AllCase, error) {
	payload, offValues, cov, err := unleashTranslate(sc)
	if err != nil {
		return nil, err
	}
	client, closeAll, err := startUnleash(payload)
	if err != nil {
		return nil, err
	}
	opt := unleashsdk.WithVariantContext(ucontext.Context{UserId: sc.Key, Properties: unleashProperties(sc.Attrs),
		CurrentTime: time.UnixMilli(sc.Now).UTC().Format(time.RFC3339Nano)})
	keys, err := keptKeys(sc, cov)
	if err != nil {
		closeAll()
		return nil, err
	}
	var sink *api.Variant
	return &AllCase{
		Coverage: cov,
		Eval: func() {
			for _, k := range keys {
				sink = client.GetVariant(k, opt)
			}
		},
		Answers: func() (map[string]string, error) {
			out := map[string]string{}
			for _, k := range keys {
				v := client.GetVariant(k, opt)
				if !v.Enabled {
					out[k] = offValues[k] // the application's value for a disabled toggle
					continue
				}
				out[k] = v.Payload.Value
			}
			_ = sink
			return out, nil
		},
		Close: closeAll,
	}, nil
}
