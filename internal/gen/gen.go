// Package gen generates realistic, deterministic snapshots for benchmarks and load tests.
//
// A generated snapshot mixes what production environments hold: many static flags and kill
// switches, plan and country rules, 2–4-way rollouts, individually targeted keys, segment
// clauses, and a few prerequisites, schedules, percentage-of-time gates, experiments, semver
// and regex clauses. The same (nFlags, seed) always yields the same bytes, and the output loads
// with zero problems.
//
// This is test support, not engine code: it uses encoding/json and fmt freely.
package gen

import (
	"encoding/json"
	"fmt"
	"math/rand"

	"github.com/vexil-flags/vexil/core"
)

// Now is the evaluation time the generated schedules and experiments are built around
// (2026-11-23T12:00:00Z, in epoch milliseconds): scheduled flags are active at Now.
const Now int64 = 1795435200000

// Attributes lists the context attributes generated clauses use, with a value that makes a
// typical "pro user in Germany" context.
var Attributes = map[string]any{
	"plan":       "pro",
	"country":    "DE",
	"email":      "jane.doe@example.com",
	"appVersion": "4.3.1",
	"platform":   "web",
	"accountId":  "acct-4711",
	"seats":      25,
	"beta":       true,
	"groups":     []string{"admins", "eu"},
}

type snapshot struct {
	SchemaVersion int       `json:"schemaVersion"`
	Environment   string    `json:"environment"`
	Version       int       `json:"version"`
	Flags         []flag    `json:"flags"`
	Segments      []segment `json:"segments"`
}

type flag struct {
	Key              string         `json:"key"`
	Type             string         `json:"type,omitempty"`
	Description      string         `json:"description,omitempty"`
	Owner            string         `json:"owner,omitempty"`
	Tags             []string       `json:"tags,omitempty"`
	CreatedAt        string         `json:"createdAt,omitempty"`
	UpdatedAt        string         `json:"updatedAt,omitempty"`
	ExpiresAt        string         `json:"expiresAt,omitempty"`
	ClientSide       bool           `json:"clientSide,omitempty"`
	Enabled          bool           `json:"enabled"`
	Variations       []any          `json:"variations"`
	OffVariation     *int           `json:"offVariation,omitempty"`
	Prerequisites    []prerequisite `json:"prerequisites,omitempty"`
	Schedule         *schedule      `json:"schedule,omitempty"`
	Targets          []target       `json:"targets,omitempty"`
	Rules            []rule         `json:"rules,omitempty"`
	Fallthrough      serve          `json:"fallthrough"`
	PercentageOfTime *int           `json:"percentageOfTime,omitempty"`
	Experiment       *experiment    `json:"experiment,omitempty"`
}

type prerequisite struct {
	Flag       string `json:"flag"`
	Variations []int  `json:"variations"`
}

type schedule struct {
	NotBefore string `json:"notBefore,omitempty"`
	NotAfter  string `json:"notAfter,omitempty"`
}

type target struct {
	Variation int      `json:"variation"`
	Values    []string `json:"values"`
}

type rule struct {
	ID          string   `json:"id,omitempty"`
	Description string   `json:"description,omitempty"`
	Match       string   `json:"match,omitempty"`
	Clauses     []clause `json:"clauses"`
	Variation   *int     `json:"variation,omitempty"`
	Rollout     *rollout `json:"rollout,omitempty"`
}

type serve struct {
	Variation *int     `json:"variation,omitempty"`
	Rollout   *rollout `json:"rollout,omitempty"`
}

type rollout struct {
	BucketBy   string     `json:"bucketBy,omitempty"`
	Salt       string     `json:"salt,omitempty"`
	Variations []weighted `json:"variations"`
}

type weighted struct {
	Variation int `json:"variation"`
	Weight    int `json:"weight"`
}

type clause struct {
	Attribute string `json:"attribute,omitempty"`
	Op        string `json:"op"`
	Values    []any  `json:"values,omitempty"`
	Negate    bool   `json:"negate,omitempty"`
}

type experiment struct {
	Key              string   `json:"key,omitempty"`
	Hypothesis       string   `json:"hypothesis,omitempty"`
	ControlVariation int      `json:"controlVariation"`
	Metrics          []string `json:"metrics,omitempty"`
	StartedAt        string   `json:"startedAt,omitempty"`
	EndedAt          string   `json:"endedAt,omitempty"`
}

type segment struct {
	Key         string   `json:"key"`
	Description string   `json:"description,omitempty"`
	Included    []string `json:"included,omitempty"`
	Excluded    []string `json:"excluded,omitempty"`
	Rules       []rule   `json:"rules,omitempty"`
}

var (
	teams     = []string{"team-payments", "team-growth", "team-search", "team-web", "team-sre", "team-mobile", "team-insights"}
	words     = []string{"checkout", "search", "pricing", "onboarding", "billing", "profile", "cart", "recommendations", "inbox", "export", "dashboard", "sso", "mobile", "api", "notifications"}
	countries = []string{"US", "CA", "GB", "IE", "DE", "FR", "NL", "BE", "LU", "AT", "CH", "ES", "IT", "PT", "SE", "NO", "DK", "FI", "PL", "JP", "AU", "BR", "IN"}
	plans     = []string{"free", "starter", "pro", "enterprise"}
	colours   = []string{"blue", "green", "orange", "purple"}
	types     = []string{"release", "release", "release", "ops", "experiment", "permission", "kill-switch"}
)

func ptr(i int) *int { return &i }

// Snapshot returns a snapshot with nFlags flags (and nFlags/50 segments, at least 3) as
// compact JSON. It is deterministic in (nFlags, seed).
func Snapshot(nFlags int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	s := snapshot{SchemaVersion: 1, Environment: "production", Version: 1000 + nFlags, Flags: []flag{}}

	var segKeys []string
	for i := range max(3, nFlags/50) {
		seg := genSegment(r, i)
		s.Segments = append(s.Segments, seg)
		segKeys = append(segKeys, seg.Key)
	}

	// Flags without prerequisites that others may depend on, keeping chains one level deep.
	var roots []int
	for i := range nFlags {
		f := genFlag(r, i, segKeys)
		if len(roots) > 0 && r.Intn(100) < 4 {
			p := roots[r.Intn(len(roots))]
			f.Prerequisites = []prerequisite{{Flag: s.Flags[p].Key, Variations: []int{len(s.Flags[p].Variations) - 1}}}
		} else if len(f.Variations) >= 2 && f.Enabled {
			roots = append(roots, i)
		}
		s.Flags = append(s.Flags, f)
	}
	data, err := json.Marshal(s)
	if err != nil {
		panic(err) // only plain values: cannot happen
	}
	return data
}

func timestamp(r *rand.Rand, fromDay, days int) string {
	// Days counted from 2025-01-01.
	d := fromDay + r.Intn(days)
	y, doy := 2025, d
	for {
		n := 365
		if y%4 == 0 {
			n = 366
		}
		if doy < n {
			break
		}
		doy -= n
		y++
	}
	months := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if y%4 == 0 {
		months[1] = 29
	}
	m := 0
	for doy >= months[m] {
		doy -= months[m]
		m++
	}
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:00Z", y, m+1, doy+1, r.Intn(24), r.Intn(60))
}

func userKey(r *rand.Rand) string { return fmt.Sprintf("user-%d", r.Intn(1_000_000)) }

func genSegment(r *rand.Rand, i int) segment {
	seg := segment{
		Key:         fmt.Sprintf("segment-%03d-%s", i, words[r.Intn(len(words))]),
		Description: "Generated segment",
	}
	for range 10 + r.Intn(190) {
		seg.Included = append(seg.Included, userKey(r))
	}
	for range r.Intn(5) {
		seg.Excluded = append(seg.Excluded, userKey(r))
	}
	switch r.Intn(4) {
	case 0:
		seg.Rules = append(seg.Rules, rule{ID: "enterprise", Clauses: []clause{{Attribute: "plan", Op: "equals", Values: []any{"enterprise"}}}})
	case 1:
		seg.Rules = append(seg.Rules, rule{ID: "staff", Clauses: []clause{{Attribute: "email", Op: "endsWith", Values: []any{"@example.com"}}}})
	case 2:
		seg.Rules = append(seg.Rules, rule{ID: "large", Match: "any", Clauses: []clause{
			{Attribute: "seats", Op: "gte", Values: []any{500}},
			{Attribute: "groups", Op: "in", Values: []any{"vip"}},
		}})
	}
	return seg
}

// weights splits 100000 into n positive weights in steps of 1000.
func weights(r *rand.Rand, n int) []int {
	w := make([]int, n)
	left := 100
	for i := range n - 1 {
		w[i] = 1 + r.Intn(left-(n-1-i))
		left -= w[i]
	}
	w[n-1] = left
	for i := range w {
		w[i] *= 1000
	}
	return w
}

func genRollout(r *rand.Rand, nVar int, key string) *rollout {
	n := min(nVar, 2+r.Intn(3))
	ro := &rollout{}
	for i, w := range weights(r, n) {
		ro.Variations = append(ro.Variations, weighted{Variation: i, Weight: w})
	}
	switch r.Intn(6) {
	case 0:
		ro.BucketBy = "accountId"
	case 1:
		ro.Salt = key + "-v2"
	}
	return ro
}

func genVariations(r *rand.Rand, want int) []any {
	switch k := r.Intn(100); {
	case k < 55 && want <= 2:
		return []any{false, true}
	case k < 80:
		v := make([]any, max(want, 2))
		for i := range v {
			v[i] = fmt.Sprintf("%s-%d", colours[i%len(colours)], i)
		}
		return v
	case k < 92:
		v := make([]any, max(want, 2))
		for i := range v {
			v[i] = 10 * (i + 1)
		}
		return v
	default:
		v := make([]any, max(want, 2))
		for i := range v {
			v[i] = map[string]any{"layout": colours[i%len(colours)], "columns": 2 + i, "beta": i > 0}
		}
		return v
	}
}

func genFlag(r *rand.Rand, i int, segKeys []string) flag {
	word := words[r.Intn(len(words))]
	key := fmt.Sprintf("%s-%s-%05d", word, words[r.Intn(len(words))], i)
	created := timestamp(r, 0, 600)
	f := flag{
		Key:          key,
		Type:         types[r.Intn(len(types))],
		Description:  fmt.Sprintf("Generated %s flag number %d", word, i),
		Owner:        teams[r.Intn(len(teams))],
		Tags:         []string{word, []string{"web", "mobile", "backend"}[r.Intn(3)]},
		CreatedAt:    created,
		UpdatedAt:    timestamp(r, 600, 100),
		ClientSide:   r.Intn(3) == 0,
		Enabled:      r.Intn(100) >= 6,
		OffVariation: ptr(0),
		Fallthrough:  serve{Variation: ptr(0)},
	}
	if r.Intn(4) == 0 {
		f.ExpiresAt = timestamp(r, 700, 200)
	}

	kind := r.Intn(100)
	ways := 2
	if kind >= 60 && kind < 80 {
		ways = 2 + r.Intn(3)
	}
	f.Variations = genVariations(r, ways)
	last := len(f.Variations) - 1

	switch {
	case kind < 30: // static: a fixed value for everyone (or a kill switch)
		f.Fallthrough = serve{Variation: ptr(r.Intn(len(f.Variations)))}
	case kind < 45: // plan rule
		f.Rules = append(f.Rules, rule{
			ID:        "paying-plans",
			Clauses:   []clause{{Attribute: "plan", Op: "in", Values: []any{"pro", "enterprise"}}},
			Variation: ptr(last),
		})
	case kind < 55: // country rule, sometimes negated, sometimes long enough for a set
		n := 2 + r.Intn(10)
		vals := make([]any, n)
		for j, c := range r.Perm(len(countries))[:n] {
			vals[j] = countries[c]
		}
		f.Rules = append(f.Rules, rule{
			ID:        "markets",
			Clauses:   []clause{{Attribute: "country", Op: "in", Values: vals, Negate: r.Intn(5) == 0}},
			Variation: ptr(last),
		})
		if r.Intn(2) == 0 {
			f.Rules = append(f.Rules, rule{
				ID: "eu-pro", Match: "all",
				Clauses: []clause{
					{Attribute: "country", Op: "in", Values: []any{"DE", "FR", "NL", "AT"}},
					{Attribute: "plan", Op: "notIn", Values: []any{"free"}},
				},
				Variation: ptr(last),
			})
		}
	case kind < 80: // rollout: in the fallthrough, or behind a rule
		ro := genRollout(r, len(f.Variations), key)
		if r.Intn(3) == 0 {
			f.Rules = append(f.Rules, rule{
				ID:      "rollout-" + plans[1+r.Intn(3)],
				Clauses: []clause{{Attribute: "plan", Op: "in", Values: []any{plans[1+r.Intn(3)], "enterprise"}}},
				Rollout: ro,
			})
		} else {
			f.Fallthrough = serve{Rollout: ro}
		}
		if r.Intn(8) == 0 {
			f.Experiment = &experiment{
				Key: key + "-exp", Hypothesis: "Variation 1 converts better", Metrics: []string{"purchase"},
				StartedAt: "2026-11-01T00:00:00Z", EndedAt: "2027-01-01T00:00:00Z",
			}
		}
	case kind < 90: // targets plus a rule
		for v := range 1 + r.Intn(2) {
			t := target{Variation: last - v}
			for range 1 + r.Intn(50) {
				t.Values = append(t.Values, userKey(r))
			}
			f.Targets = append(f.Targets, t)
		}
		f.Rules = append(f.Rules, rule{
			ID:        "staff",
			Clauses:   []clause{{Attribute: "email", Op: "endsWith", Values: []any{"@example.com"}}},
			Variation: ptr(last),
		})
	default: // segment clause
		op := "inSegment"
		if r.Intn(4) == 0 {
			op = "notInSegment"
		}
		f.Rules = append(f.Rules, rule{
			ID:        "segment",
			Clauses:   []clause{{Op: op, Values: []any{segKeys[r.Intn(len(segKeys))]}}},
			Variation: ptr(last),
		})
	}

	// Occasional extras.
	switch r.Intn(40) {
	case 0:
		f.Rules = append(f.Rules, rule{
			ID:        "new-apps",
			Clauses:   []clause{{Attribute: "appVersion", Op: "semverGte", Values: []any{fmt.Sprintf("4.%d.0", r.Intn(5))}}},
			Variation: ptr(last),
		})
	case 1:
		f.Rules = append(f.Rules, rule{
			ID:        "qa",
			Clauses:   []clause{{Attribute: "email", Op: "matches", Values: []any{`^qa\+[a-z0-9-]+@example\.com$`}}},
			Variation: ptr(last),
		})
	case 2:
		f.Schedule = &schedule{NotBefore: "2026-11-01T00:00:00Z", NotAfter: "2027-01-01T00:00:00Z"}
	case 3:
		f.PercentageOfTime = ptr(1000 * (1 + r.Intn(100)))
	case 4:
		f.Rules = append(f.Rules, rule{
			ID: "mobile-beta", Match: "any",
			Clauses: []clause{
				{Attribute: "platform", Op: "equals", Values: []any{"ios"}},
				{Attribute: "beta", Op: "equals", Values: []any{true}},
			},
			Variation: ptr(last),
		})
	}
	return f
}

// Context returns a typical request context for generated snapshots: the given targeting key
// and every attribute of Attributes, at Now.
func Context(ev *core.Evaluator, key string) *core.Context {
	ctx := ev.NewContext()
	ctx.SetTargetingKey(key)
	for name, v := range Attributes {
		switch v := v.(type) {
		case string:
			ctx.SetString(name, v)
		case int:
			ctx.SetNumber(name, float64(v))
		case bool:
			ctx.SetBool(name, v)
		case []string:
			ctx.SetStrings(name, v)
		}
	}
	ctx.Now = Now
	return ctx
}
