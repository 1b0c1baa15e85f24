package peers

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/open-feature/flagd/core/pkg/evaluator"
	"github.com/open-feature/flagd/core/pkg/logger"
	"github.com/open-feature/flagd/core/pkg/store"
	"github.com/open-feature/flagd/core/pkg/sync"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// flagd's core (the evaluator inside the flagd daemon and its in-process providers): flags in
// flagd's JSON schema with JSON Logic targeting, loaded with SetState, resolved with the typed
// resolvers and a context map built once per request. Targets are "in" over the targeting
// key, the segment a shared "$evaluators" entry, rollouts and splits "fractional". flagd has no
// flag prerequisites, so the prerequisite chain is not expressed.

func flagd() Peer {
	return Peer{Name: "flagd", Prepare: prepareFlagd, All: flagdAll, Load: flagdLoadCase}
}

func prepareFlagd(sc *scenarios.Scenario) (*Case, error) {
	type obj = map[string]any
	key := obj{"var": "targetingKey"}
	boolean := func(defaultVariant string, targeting any) obj {
		f := obj{"state": "ENABLED", "variants": obj{"on": true, "off": false}, "defaultVariant": defaultVariant}
		if targeting != nil {
			f["targeting"] = targeting
		}
		return f
	}
	config := obj{}
	var flag obj
	switch sc.Name {
	case "static":
		flag = boolean("on", nil)
	case "target-hit":
		t, err := targets(sc)
		if err != nil {
			return nil, err
		}
		flag = boolean("off", obj{"if": []any{obj{"in": []any{key, t[1]}}, "on", obj{"in": []any{key, t[0]}}, "off", "off"}})
	case "rule-match":
		flag = boolean("off", obj{"if": []any{obj{"in": []any{obj{"var": "plan"}, []string{"pro", "enterprise"}}}, "on", "off"}})
	case "rule-10-clauses":
		flag = boolean("off", obj{"if": []any{obj{"and": []any{
			obj{"in": []any{obj{"var": "plan"}, []string{"pro", "enterprise"}}},
			obj{"in": []any{obj{"var": "country"}, []string{"DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES"}}},
			obj{"ends_with": []any{obj{"var": "email"}, "@example.com"}},
			obj{"starts_with": []any{obj{"var": "email"}, "jane"}},
			obj{"==": []any{obj{"var": "platform"}, "web"}},
			obj{">=": []any{obj{"var": "seats"}, 10}},
			obj{"<": []any{obj{"var": "seats"}, 1000}},
			obj{"sem_ver": []any{obj{"var": "appVersion"}, ">=", "4.2.0"}},
			obj{"==": []any{obj{"var": "beta"}, true}},
			obj{"some": []any{obj{"var": "groups"}, obj{"in": []any{"adm", obj{"var": ""}}}}},
		}}, "on", "off"}})
	case "rollout":
		flag = boolean("off", obj{"fractional": []any{[]any{"on", 25}, []any{"off", 75}}})
	case "split-3way":
		flag = obj{"state": "ENABLED", "variants": obj{"a": "a", "b": "b", "c": "c"}, "defaultVariant": "a",
			"targeting": obj{"fractional": []any{[]any{"a", 50}, []any{"b", 30}, []any{"c", 20}}}}
	case "segment-10k":
		members, err := segmentMembers(sc)
		if err != nil {
			return nil, err
		}
		config["$evaluators"] = obj{"betaTesters": obj{"in": []any{key, members}}}
		flag = boolean("off", obj{"if": []any{obj{"$ref": "betaTesters"}, "on", "off"}})
	default:
		return nil, ErrNotExpressible
	}
	config["flags"] = obj{sc.Flag: flag}
	data, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	ev := evaluator.NewJSON(logger.NewLogger(nil, false), store.NewFlags())
	if _, _, err := ev.SetState(sync.DataSync{FlagData: string(data), Source: "bench"}); err != nil {
		return nil, err
	}
	build := func(key string) map[string]any { return flagdContext(key, sc.Attrs) }
	ctx, evalCtx := context.Background(), build(sc.Key)
	var eval func()
	if strings.HasPrefix(sc.Want.Value, `"`) {
		eval = func() { _, _, _, _, _ = ev.ResolveStringValue(ctx, "bench", sc.Flag, evalCtx) }
	} else {
		eval = func() { _, _, _, _, _ = ev.ResolveBooleanValue(ctx, "bench", sc.Flag, evalCtx) }
	}
	return &Case{
		Eval: eval,
		Answer: func(key string) (string, error) {
			v := ev.ResolveAsAnyValue(ctx, "bench", sc.Flag, build(key))
			if v.Error != nil {
				return "", v.Error
			}
			return jsonText(v.Value)
		},
	}, nil
}
