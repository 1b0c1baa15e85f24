package wasmengine

import (
	"encoding/json"
	"fmt"
	"math/rand"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// A small snapshot generator for evaluate-all tests and benchmarks (core/internal/gen is not
// importable from here). It mixes what production environments hold, in roughly the
// proportions core/internal/gen uses: static flags and kill switches, disabled flags, plan and
// country rules, 2–4-way rollouts (some behind a rule, some by account, some in experiments),
// individual targets with an e-mail rule, segment clauses, and a few semver, regex, schedule and
// prerequisite extras.

// genNow is the evaluation time of generated contexts (2026-11-23T12:00:00Z).
const genNow int64 = 1795435200000

var (
	genWords     = []string{"checkout", "search", "pricing", "onboarding", "billing", "profile", "cart", "inbox", "export", "dashboard", "sso", "api"}
	genCountries = []string{"US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "AT", "CH", "ES", "IT", "SE", "PL", "JP", "BR", "IN"}
	genColours   = []string{"blue", "green", "orange", "purple"}
)

type obj = map[string]any

func genSnapshot(nFlags int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	user := func() string { return fmt.Sprintf("user-%d", r.Intn(1_000_000)) }
	users := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = user()
		}
		return out
	}
	var segments []any
	var segKeys []string
	for i := range max(3, nFlags/50) {
		key := fmt.Sprintf("segment-%03d", i)
		segKeys = append(segKeys, key)
		seg := obj{"key": key, "included": users(10 + r.Intn(190)), "excluded": users(r.Intn(5))}
		if r.Intn(2) == 0 {
			seg["rules"] = []any{obj{"id": "enterprise", "clauses": []any{obj{"attribute": "plan", "op": "equals", "values": []any{"enterprise"}}}}}
		}
		segments = append(segments, seg)
	}
	weights := func(n int) []any {
		out, left := make([]any, n), 100
		for i := range n - 1 {
			w := 1 + r.Intn(left-(n-1-i))
			left -= w
			out[i] = obj{"variation": i, "weight": w * 1000}
		}
		out[n-1] = obj{"variation": n - 1, "weight": left * 1000}
		return out
	}
	var flags []any
	var roots []string
	for i := range nFlags {
		key := fmt.Sprintf("%s-%s-%05d", genWords[r.Intn(len(genWords))], genWords[r.Intn(len(genWords))], i)
		kind := r.Intn(100)
		ways := 2
		if kind >= 60 && kind < 80 {
			ways = 2 + r.Intn(3)
		}
		var variations []any
		switch k := r.Intn(100); {
		case k < 55 && ways == 2:
			variations = []any{false, true}
		case k < 80:
			for v := range ways {
				variations = append(variations, fmt.Sprintf("%s-%d", genColours[v%4], v))
			}
		case k < 92:
			for v := range ways {
				variations = append(variations, 10*(v+1))
			}
		default:
			for v := range ways {
				variations = append(variations, obj{"layout": genColours[v%4], "columns": 2 + v})
			}
		}
		last := len(variations) - 1
		f := obj{"key": key, "enabled": r.Intn(100) >= 6, "variations": variations, "offVariation": 0,
			"fallthrough": obj{"variation": 0}, "description": "generated", "tags": []string{"web"}}
		var rules []any
		switch {
		case kind < 30:
			f["fallthrough"] = obj{"variation": r.Intn(len(variations))}
		case kind < 45:
			rules = append(rules, obj{"id": "paying", "clauses": []any{obj{"attribute": "plan", "op": "in", "values": []any{"pro", "enterprise"}}}, "variation": last})
		case kind < 55:
			n := 2 + r.Intn(10)
			vals := make([]any, n)
			for j, c := range r.Perm(len(genCountries))[:n] {
				vals[j] = genCountries[c]
			}
			rules = append(rules, obj{"id": "markets", "clauses": []any{obj{"attribute": "country", "op": "in", "values": vals, "negate": r.Intn(5) == 0}}, "variation": last})
		case kind < 80:
			ro := obj{"variations": weights(ways)}
			if r.Intn(6) == 0 {
				ro["bucketBy"] = "accountId"
			}
			if r.Intn(3) == 0 {
				rules = append(rules, obj{"id": "rollout-pro", "clauses": []any{obj{"attribute": "plan", "op": "in", "values": []any{"pro", "enterprise"}}}, "rollout": ro})
			} else {
				f["fallthrough"] = obj{"rollout": ro}
			}
			if r.Intn(8) == 0 {
				f["experiment"] = obj{"key": key + "-exp", "controlVariation": 0, "startedAt": "2026-11-01T00:00:00Z", "endedAt": "2027-01-01T00:00:00Z"}
			}
		case kind < 90:
			f["targets"] = []any{obj{"variation": last, "values": users(1 + r.Intn(50))}}
			rules = append(rules, obj{"id": "staff", "clauses": []any{obj{"attribute": "email", "op": "endsWith", "values": []any{"@example.com"}}}, "variation": last})
		default:
			op := "inSegment"
			if r.Intn(4) == 0 {
				op = "notInSegment"
			}
			rules = append(rules, obj{"id": "segment", "clauses": []any{obj{"op": op, "values": []any{segKeys[r.Intn(len(segKeys))]}}}, "variation": last})
		}
		switch r.Intn(40) {
		case 0:
			rules = append(rules, obj{"id": "new-apps", "clauses": []any{obj{"attribute": "appVersion", "op": "semverGte", "values": []any{fmt.Sprintf("4.%d.0", r.Intn(5))}}}, "variation": last})
		case 1:
			rules = append(rules, obj{"id": "qa", "clauses": []any{obj{"attribute": "email", "op": "matches", "values": []any{`^qa\+[a-z0-9-]+@example\.com$`}}}, "variation": last})
		case 2:
			f["schedule"] = obj{"notBefore": "2026-11-01T00:00:00Z", "notAfter": "2027-01-01T00:00:00Z"}
		}
		if rules != nil {
			f["rules"] = rules
		}
		if len(roots) > 0 && r.Intn(100) < 4 {
			f["prerequisites"] = []any{obj{"flag": roots[r.Intn(len(roots))], "variations": []any{1}}}
		} else if f["enabled"] == true {
			roots = append(roots, key)
		}
		flags = append(flags, f)
	}
	data, err := json.Marshal(obj{"schemaVersion": 1, "environment": "production", "version": 1000 + nFlags, "flags": flags, "segments": segments})
	if err != nil {
		panic(err)
	}
	return data
}

// genAttributes is a typical request: a pro user in Germany.
var genAttributes = []struct {
	name string
	v    any
}{
	{"plan", "pro"}, {"country", "DE"}, {"email", "jane.doe@example.com"}, {"appVersion", "4.3.1"},
	{"platform", "web"}, {"accountId", "acct-4711"}, {"seats", 25.0}, {"beta", true},
	{"groups", []string{"admins", "eu"}},
}

// genContexts fills a native context and a wasm encoding with the same request.
func genContexts(ctx *core.Context, enc *abi.Encoder, in *Instance, key string) []byte {
	ctx.Reset()
	ctx.Now, ctx.Random = genNow, 0x9e3779b9
	ctx.SetTargetingKey(key)
	enc.Reset(genNow, 0x9e3779b9)
	enc.String(0, key)
	for _, a := range genAttributes {
		id := in.AttributeID(a.name)
		switch v := a.v.(type) {
		case string:
			ctx.SetString(a.name, v)
			if id >= 0 {
				enc.String(uint32(id), v)
			}
		case float64:
			ctx.SetNumber(a.name, v)
			if id >= 0 {
				enc.Number(uint32(id), v)
			}
		case bool:
			ctx.SetBool(a.name, v)
			if id >= 0 {
				enc.Bool(uint32(id), v)
			}
		case []string:
			ctx.SetStrings(a.name, v)
			if id >= 0 {
				enc.Strings(uint32(id), v)
			}
		}
	}
	return enc.Bytes()
}
