package peers

import (
	"context"
	"encoding/json"
	"fmt"

	gb "github.com/growthbook/growthbook-golang"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// GrowthBook's Go SDK: features in the SDK's JSON payload, a client holding them, and one
// client per request carrying the user's attributes (Client.WithAttributes), as the SDK
// documents. Targets and segments are $in conditions on the "id" attribute; the 10-clause rule
// is one condition with ten operators (two $regex for endsWith/startsWith, $vgte for semver,
// $elemMatch + $regex for "groups contains"); rollouts are coverage rules; the split is an
// experiment rule; prerequisites are parentConditions.

func growthBook() Peer {
	return Peer{Name: "growthbook", Prepare: prepareGrowthBook, All: growthBookAll, Load: growthBookLoadCase}
}

func prepareGrowthBook(sc *scenarios.Scenario) (*Case, error) {
	type obj = map[string]any
	var feature obj
	features := obj{}
	switch sc.Name {
	case "static":
		feature = obj{"defaultValue": true}
	case "target-hit":
		t, err := targets(sc)
		if err != nil {
			return nil, err
		}
		feature = obj{"defaultValue": false, "rules": []any{
			obj{"condition": obj{"id": obj{"$in": t[1]}}, "force": true},
			obj{"condition": obj{"id": obj{"$in": t[0]}}, "force": false},
		}}
	case "rule-match":
		feature = obj{"defaultValue": false, "rules": []any{
			obj{"id": "plans", "condition": obj{"plan": obj{"$in": []string{"pro", "enterprise"}}}, "force": true},
		}}
	case "rule-10-clauses":
		feature = obj{"defaultValue": false, "rules": []any{obj{"id": "everything", "force": true, "condition": obj{
			"plan":       obj{"$in": []string{"pro", "enterprise"}},
			"country":    obj{"$in": []string{"DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES"}},
			"$and":       []any{obj{"email": obj{"$regex": `@example\.com$`}}, obj{"email": obj{"$regex": "^jane"}}},
			"platform":   "web",
			"seats":      obj{"$gte": 10, "$lt": 1000},
			"appVersion": obj{"$vgte": "4.2.0"},
			"beta":       true,
			"groups":     obj{"$elemMatch": obj{"$regex": "adm"}},
		}}}}
	case "rollout":
		feature = obj{"defaultValue": false, "rules": []any{obj{"force": true, "coverage": 0.25, "hashAttribute": "id"}}}
	case "split-3way":
		feature = obj{"defaultValue": "a", "rules": []any{obj{"key": "split", "hashAttribute": "id",
			"variations": []string{"a", "b", "c"}, "weights": []float64{0.5, 0.3, 0.2}}}}
	case "segment-10k":
		members, err := segmentMembers(sc)
		if err != nil {
			return nil, err
		}
		feature = obj{"defaultValue": false, "rules": []any{obj{"id": "beta-testers", "condition": obj{"id": obj{"$in": members}}, "force": true}}}
	case "prerequisite-chain-3":
		features["pc-0"] = obj{"defaultValue": true}
		for i := 1; i <= 3; i++ {
			f := obj{"defaultValue": false, "rules": []any{obj{"force": true, "parentConditions": []any{
				obj{"id": fmt.Sprintf("pc-%d", i-1), "condition": obj{"value": true}, "gate": true}}}}}
			features[fmt.Sprintf("pc-%d", i)] = f
		}
	default:
		return nil, ErrNotExpressible
	}
	if feature != nil {
		features[sc.Flag] = feature
	}
	payload, err := json.Marshal(features)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	base, err := gb.NewClient(ctx, gb.WithJsonFeatures(string(payload)))
	if err != nil {
		return nil, err
	}
	client := func(key string) (*gb.Client, error) {
		attrs := gb.Attributes{"id": key}
		for _, a := range sc.Attrs {
			attrs[a.Name] = a.Value
		}
		return base.WithAttributes(attrs)
	}
	c, err := client(sc.Key)
	if err != nil {
		return nil, err
	}
	var sink *gb.FeatureResult
	return &Case{
		Eval: func() { sink = c.EvalFeature(ctx, sc.Flag) },
		Answer: func(key string) (string, error) {
			c, err := client(key)
			if err != nil {
				return "", err
			}
			_ = sink
			return jsonText(c.EvalFeature(ctx, sc.Flag).Value)
		},
	}, nil
}
