package peers

import (
	"encoding/json"
	"fmt"

	"github.com/launchdarkly/go-jsonstream/v3/jreader"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ld "github.com/launchdarkly/go-server-sdk-evaluation/v3"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldmodel"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// The generated snapshot in LaunchDarkly's flag and segment JSON (what its streaming service
// sends as {"flags": {…}, "segments": {…}}), loaded as the server SDK loads a full data set:
// each flag and segment unmarshalled with ldmodel (which preprocesses it), then evaluated for
// one context per flag, as the SDK's AllFlagsState does.
//
// Vexil's model follows LaunchDarkly's, so most of it maps one to one: on/off and
// offVariation, prerequisites, targets, rules with clauses (equals and in → in; notEquals and
// notIn → a negated in; inSegment → segmentMatch), rollouts (weights are in the same
// thousandths of a percent; bucketBy kept; the rollout's salt becomes the flag's salt) and
// segments with included, excluded and rules. LaunchDarkly rules are conjunctions, so a Vexil
// rule that matches "any" of its clauses becomes one rule per clause, and semverGte (which
// LaunchDarkly lacks) is semVerGreaterThan or semVerEqual, two rules serving the same thing.
// Left out: schedules (no time window in LaunchDarkly's flag model), percentage of time, and
// flags that depend on one left out.

func launchDarklyTranslate(sc *scenarios.Scenario) ([]byte, *Coverage, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, nil, err
	}
	type obj = map[string]any
	cov := newCoverage(len(d.Flags))
	attr := keyAs("key")
	ldOps := map[string]string{"equals": "in", "in": "in", "notEquals": "in", "notIn": "in",
		"contains": "contains", "startsWith": "startsWith", "endsWith": "endsWith", "matches": "matches",
		"lt": "lessThan", "lte": "lessThanOrEqual", "gt": "greaterThan", "gte": "greaterThanOrEqual",
		"before": "before", "after": "after", "semverEq": "semVerEqual", "semverLt": "semVerLessThan",
		"semverGt": "semVerGreaterThan", "inSegment": "segmentMatch", "notInSegment": "segmentMatch"}
	negated := map[string]bool{"notEquals": true, "notIn": true, "notInSegment": true}
	neg := func(c obj) obj { return flipped(c, "negate") }
	clause := func(c *flagdoc.Clause, values []any) (dnf[obj], error) {
		lit := func(op string) obj {
			o := obj{"attribute": attr(c.Attribute), "op": op, "values": values, "negate": negated[c.Op]}
			if op == "segmentMatch" {
				o["attribute"] = "key"
			}
			return o
		}
		var out dnf[obj]
		switch c.Op {
		case "semverGte":
			out = dnfLit(lit("semVerGreaterThan"), lit("semVerEqual"))
		case "semverLte":
			out = dnfLit(lit("semVerLessThan"), lit("semVerEqual"))
		default:
			op, ok := ldOps[c.Op]
			if !ok {
				return nil, fmt.Errorf("operator %s", c.Op)
			}
			out = dnfLit(lit(op))
		}
		if c.Negate {
			out = dnfNot(out, neg)
		}
		return out, nil
	}
	segments := obj{}
	for _, s := range d.Segments {
		var rules []any
		for _, r := range s.Rules {
			alts, err := ruleDNF(r.Match, r.Clauses, clause)
			if err != nil {
				return nil, nil, fmt.Errorf("segment %s: %v", s.Key, err)
			}
			for _, conj := range alts {
				rules = append(rules, obj{"clauses": conj})
			}
		}
		segments[s.Key] = obj{"key": s.Key, "version": 1, "included": s.Included, "excluded": s.Excluded, "rules": rules, "salt": s.Key}
	}
	flags := obj{}
	for _, f := range d.Flags {
		reason := commonLeftOut(&f)
		if f.Schedule != nil {
			reason = "schedule (no time window in LaunchDarkly's flag model)"
		}
		salt := f.Key
		serve := func(s *flagdoc.Serve) obj {
			if s.Rollout == nil {
				return obj{"variation": *s.Variation}
			}
			salt = rolloutSalt(s.Rollout, &f)
			var vs []any
			for _, w := range s.Rollout.Variations {
				vs = append(vs, obj{"variation": w.Variation, "weight": w.Weight})
			}
			return obj{"rollout": obj{"variations": vs, "bucketBy": attr(bucketBy(s.Rollout))}}
		}
		var rules, prereqs, targets []any
		for i := range f.Rules {
			r := &f.Rules[i]
			alts, err := ruleDNF(r.Match, r.Clauses, clause)
			if err != nil {
				reason = err.Error()
				break
			}
			for k, conj := range alts {
				lr := serve(ruleServe(r))
				lr["id"], lr["clauses"] = fmt.Sprintf("%s#%d", r.ID, k), conj
				rules = append(rules, lr)
			}
		}
		for _, p := range f.Prerequisites {
			if len(p.Variations) != 1 {
				reason = "a prerequisite on several variations"
				break
			}
			prereqs = append(prereqs, obj{"key": p.Flag, "variation": p.Variations[0]})
		}
		for _, t := range f.Targets {
			targets = append(targets, obj{"variation": t.Variation, "values": t.Values})
		}
		if !cov.admit(&f, reason) {
			continue
		}
		flags[f.Key] = obj{"key": f.Key, "version": 1, "on": f.Enabled, "variations": f.Variations,
			"offVariation": f.OffVariation, "prerequisites": prereqs, "targets": targets, "rules": rules,
			"fallthrough": serve(f.Fallthrough), "salt": salt}
	}
	payload, err := json.Marshal(obj{"flags": flags, "segments": segments})
	return payload, cov, err
}

// launchDarklyLoad reads a {"flags", "segments"} payload the way the server SDK reads a full
// data set: streaming JSON, each item unmarshalled (and preprocessed) by ldmodel.
func launchDarklyLoad(payload []byte) (*ldData, error) {
	data := &ldData{flags: map[string]*ldmodel.FeatureFlag{}, segments: map[string]*ldmodel.Segment{}}
	r := jreader.NewReader(payload)
	for top := r.Object(); top.Next(); {
		switch string(top.Name()) {
		case "flags":
			for items := r.Object(); items.Next(); {
				f := ldmodel.UnmarshalFeatureFlagFromJSONReader(&r)
				data.flags[f.Key] = &f
			}
		case "segments":
			for items := r.Object(); items.Next(); {
				s := ldmodel.UnmarshalSegmentFromJSONReader(&r)
				data.segments[s.Key] = &s
			}
		default:
			_ = r.SkipValue()
		}
	}
	if err := r.Error(); err != nil {
		return nil, err
	}
	return data, nil
}

func launchDarklyLoadCase(sc *scenarios.Scenario) (*LoadCase, error) {
	payload, cov, err := launchDarklyTranslate(sc)
	if err != nil {
		return nil, err
	}
	return &LoadCase{Coverage: cov, Payload: payload, Load: func() (int, error) {
		data, err := launchDarklyLoad(payload)
		if err != nil {
			return 0, err
		}
		return len(data.flags), nil
	}}, nil
}

func launchDarklyAll(sc *scenarios.Scenario) (*AllCase, error) {
	lc, err := launchDarklyLoadCase(sc)
	if err != nil {
		return nil, err
	}
	data, err := launchDarklyLoad(lc.Payload)
	if err != nil {
		return nil, err
	}
	ev := ld.NewEvaluator(data)
	ctx := launchDarklyContext(sc.Key, sc.Attrs)
	keys, err := keptKeys(sc, lc.Coverage)
	if err != nil {
		return nil, err
	}
	var flags []*ldmodel.FeatureFlag
	for _, k := range keys {
		if lf := data.flags[k]; lf != nil { // one that did not load is a missing answer to CheckAll
			flags = append(flags, lf)
		}
	}
	var sink ld.Result
	return &AllCase{
		Coverage: lc.Coverage,
		Eval: func() {
			for _, f := range flags {
				sink = ev.Evaluate(f, ctx, nil)
			}
		},
		Answers: func() (map[string]string, error) {
			out := map[string]string{}
			for _, f := range flags {
				out[f.Key] = ev.Evaluate(f, ctx, nil).Detail.Value.JSONString()
			}
			_ = sink
			return out, nil
		},
	}, nil
}

// launchDarklyContext builds a context of the scenario's attributes for key.
func launchDarklyContext(key string, attrs []scenarios.Attr) ldcontext.Context {
	b := ldcontext.NewBuilder(key)
	for _, a := range attrs {
		switch v := a.Value.(type) {
		case string:
			b.SetString(a.Name, v)
		case float64:
			b.SetFloat64(a.Name, v)
		case bool:
			b.SetBool(a.Name, v)
		case []string:
			b.SetValue(a.Name, ldvalue.CopyArbitraryValue(v))
		}
	}
	return b.Build()
}
