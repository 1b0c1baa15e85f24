package peers

import (
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/launchdarkly/go-sdk-common/v3/ldvalue"
	ld "github.com/launchdarkly/go-server-sdk-evaluation/v3"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldbuilders"
	"github.com/launchdarkly/go-server-sdk-evaluation/v3/ldmodel"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// LaunchDarkly's evaluation engine (the core of its server-side Go SDK): flags built with
// ldbuilders (which preprocesses them as the SDK does on receipt), an evaluator over an
// in-memory data provider, a context built once per request. Vexil's model follows
// LaunchDarkly's, so every scenario translates one to one, except semverGte, expressed as
// semVerGreaterThan (LaunchDarkly has no ≥), which gives the same answer here.

type ldData struct {
	flags    map[string]*ldmodel.FeatureFlag
	segments map[string]*ldmodel.Segment
}

func (d *ldData) GetFeatureFlag(key string) *ldmodel.FeatureFlag { return d.flags[key] }
func (d *ldData) GetSegment(key string) *ldmodel.Segment         { return d.segments[key] }

func launchDarkly() Peer {
	return Peer{Name: "launchdarkly", Prepare: prepareLaunchDarkly, All: launchDarklyAll, Load: launchDarklyLoadCase}
}

func prepareLaunchDarkly(sc *scenarios.Scenario) (*Case, error) {
	data := &ldData{flags: map[string]*ldmodel.FeatureFlag{}, segments: map[string]*ldmodel.Segment{}}
	add := func(b *ldbuilders.FlagBuilder) {
		f := b.Build()
		data.flags[f.Key] = &f
	}
	boolFlag := func(key string) *ldbuilders.FlagBuilder {
		return ldbuilders.NewFlagBuilder(key).On(true).Variations(ldvalue.Bool(false), ldvalue.Bool(true)).OffVariation(0)
	}
	str := func(vs ...string) []ldvalue.Value {
		out := make([]ldvalue.Value, len(vs))
		for i, v := range vs {
			out[i] = ldvalue.String(v)
		}
		return out
	}
	switch sc.Name {
	case "static":
		add(boolFlag(sc.Flag).FallthroughVariation(1))
	case "target-hit":
		t, err := targets(sc)
		if err != nil {
			return nil, err
		}
		add(boolFlag(sc.Flag).AddTarget(1, t[1]...).AddTarget(0, t[0]...).FallthroughVariation(0))
	case "rule-match":
		add(boolFlag(sc.Flag).AddRule(ldbuilders.NewRuleBuilder().ID("plans").Variation(1).Clauses(
			ldbuilders.Clause("plan", ldmodel.OperatorIn, str("pro", "enterprise")...))).FallthroughVariation(0))
	case "rule-10-clauses":
		add(boolFlag(sc.Flag).AddRule(ldbuilders.NewRuleBuilder().ID("everything").Variation(1).Clauses(
			ldbuilders.Clause("plan", ldmodel.OperatorIn, str("pro", "enterprise")...),
			ldbuilders.Clause("country", ldmodel.OperatorIn, str("DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES")...),
			ldbuilders.Clause("email", ldmodel.OperatorEndsWith, ldvalue.String("@example.com")),
			ldbuilders.Clause("email", ldmodel.OperatorStartsWith, ldvalue.String("jane")),
			ldbuilders.Clause("platform", ldmodel.OperatorIn, ldvalue.String("web")),
			ldbuilders.Clause("seats", ldmodel.OperatorGreaterThanOrEqual, ldvalue.Int(10)),
			ldbuilders.Clause("seats", ldmodel.OperatorLessThan, ldvalue.Int(1000)),
			ldbuilders.Clause("appVersion", ldmodel.OperatorSemVerGreaterThan, ldvalue.String("4.2.0")),
			ldbuilders.Clause("beta", ldmodel.OperatorIn, ldvalue.Bool(true)),
			ldbuilders.Clause("groups", ldmodel.OperatorContains, ldvalue.String("adm")),
		)).FallthroughVariation(0))
	case "rollout":
		add(boolFlag(sc.Flag).Fallthrough(ldbuilders.Rollout(ldbuilders.Bucket(1, 25000), ldbuilders.Bucket(0, 75000))))
	case "split-3way":
		add(ldbuilders.NewFlagBuilder(sc.Flag).On(true).Variations(str("a", "b", "c")...).OffVariation(0).
			Fallthrough(ldbuilders.Rollout(ldbuilders.Bucket(0, 50000), ldbuilders.Bucket(1, 30000), ldbuilders.Bucket(2, 20000))))
	case "segment-10k":
		members, err := segmentMembers(sc)
		if err != nil {
			return nil, err
		}
		s := ldbuilders.NewSegmentBuilder("beta-testers").Included(members...).Build()
		data.segments[s.Key] = &s
		add(boolFlag(sc.Flag).AddRule(ldbuilders.NewRuleBuilder().ID("beta-testers").Variation(1).Clauses(
			ldbuilders.SegmentMatchClause("beta-testers"))).FallthroughVariation(0))
	case "prerequisite-chain-3":
		add(boolFlag("pc-0").FallthroughVariation(1))
		add(boolFlag("pc-1").AddPrerequisite("pc-0", 1).FallthroughVariation(1))
		add(boolFlag("pc-2").AddPrerequisite("pc-1", 1).FallthroughVariation(1))
		add(boolFlag("pc-3").AddPrerequisite("pc-2", 1).FallthroughVariation(1))
	default:
		return nil, ErrNotExpressible
	}
	flag := data.flags[sc.Flag]
	ev := ld.NewEvaluator(data)
	build := func(key string) ldcontext.Context { return launchDarklyContext(key, sc.Attrs) }
	ctx := build(sc.Key)
	var sink ld.Result
	return &Case{
		Eval: func() { sink = ev.Evaluate(flag, ctx, nil) },
		Answer: func(key string) (string, error) {
			r := ev.Evaluate(flag, build(key), nil)
			_ = sink
			return r.Detail.Value.JSONString(), nil
		},
	}, nil
}
