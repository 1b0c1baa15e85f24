// Package flagdoc holds the documents the sync daemon stores and serves: flags and segments in
// exactly the snapshot format of core/SNAPSHOT.md (one JSON document each, so a snapshot is
// assembled, never converted), and the daemon's own staged rollout plans.
//
// Decoding is strict where the snapshot format is lenient: an API body with an unknown field
// or a value of the wrong type is refused with the path of the field (Decode). Everything a
// type check cannot see — operators, variation indices, weights, prerequisite cycles — is left
// to the engine itself: Validate compiles the whole candidate environment with core.Load, so
// the daemon accepts exactly what every host will load.
package flagdoc

import "encoding/json"

// Flag is one flag document. Optional numbers are pointers so that "absent" survives a round
// trip: an absent offVariation serves the caller's default, which 0 would not.
type Flag struct {
	Key              string            `json:"key"`
	Type             string            `json:"type,omitempty"`
	Description      string            `json:"description,omitempty"`
	Owner            string            `json:"owner,omitempty"`
	Tags             []string          `json:"tags,omitempty"`
	CreatedAt        string            `json:"createdAt,omitempty"`
	UpdatedAt        string            `json:"updatedAt,omitempty"`
	ExpiresAt        string            `json:"expiresAt,omitempty"`
	ClientSide       bool              `json:"clientSide,omitempty"`
	Enabled          bool              `json:"enabled"`
	Variations       []json.RawMessage `json:"variations"`
	OffVariation     *int              `json:"offVariation,omitempty"`
	Prerequisites    []Prerequisite    `json:"prerequisites,omitempty"`
	Schedule         *Schedule         `json:"schedule,omitempty"`
	Targets          []Target          `json:"targets,omitempty"`
	Rules            []Rule            `json:"rules,omitempty"`
	Fallthrough      *Serve            `json:"fallthrough"`
	PercentageOfTime *int              `json:"percentageOfTime,omitempty"`
	Experiment       *Experiment       `json:"experiment,omitempty"`
	Salt             string            `json:"salt,omitempty"`
}

// Prerequisite: another flag that must serve one of Variations.
type Prerequisite struct {
	Flag       string `json:"flag"`
	Variations []int  `json:"variations"`
}

// Schedule is the window in which a flag is active; either end may be open.
type Schedule struct {
	NotBefore string `json:"notBefore,omitempty"`
	NotAfter  string `json:"notAfter,omitempty"`
}

// Target pins targeting keys to a variation.
type Target struct {
	Variation int      `json:"variation"`
	Values    []string `json:"values"`
}

// Serve is what a rule or the fallthrough serves: one variation or a rollout.
type Serve struct {
	Variation *int     `json:"variation,omitempty"`
	Rollout   *Rollout `json:"rollout,omitempty"`
}

// Rollout splits contexts over variations by bucket; weights are thousandths of a percent.
type Rollout struct {
	BucketBy   string              `json:"bucketBy,omitempty"`
	Salt       string              `json:"salt,omitempty"`
	Variations []WeightedVariation `json:"variations"`
}

// WeightedVariation is one slice of a rollout.
type WeightedVariation struct {
	Variation int `json:"variation"`
	Weight    int `json:"weight"`
}

// Rule is a flag rule; Variation/Rollout are inlined as in the snapshot format.
type Rule struct {
	ID          string   `json:"id,omitempty"`
	Description string   `json:"description,omitempty"`
	Match       string   `json:"match,omitempty"`
	Clauses     []Clause `json:"clauses,omitempty"`
	Variation   *int     `json:"variation,omitempty"`
	Rollout     *Rollout `json:"rollout,omitempty"`
}

// Clause tests one attribute.
type Clause struct {
	Attribute string            `json:"attribute"`
	Op        string            `json:"op"`
	Values    []json.RawMessage `json:"values,omitempty"`
	Negate    bool              `json:"negate,omitempty"`
}

// Experiment marks rollout results as exposures.
type Experiment struct {
	Key              string   `json:"key,omitempty"`
	Hypothesis       string   `json:"hypothesis,omitempty"`
	ControlVariation *int     `json:"controlVariation,omitempty"`
	Metrics          []string `json:"metrics,omitempty"`
	StartedAt        string   `json:"startedAt,omitempty"`
	EndedAt          string   `json:"endedAt,omitempty"`
}

// Segment is one segment document.
type Segment struct {
	Key         string        `json:"key"`
	Description string        `json:"description,omitempty"`
	Included    []string      `json:"included,omitempty"`
	Excluded    []string      `json:"excluded,omitempty"`
	Rules       []SegmentRule `json:"rules,omitempty"`
}

// SegmentRule is a segment rule: clauses and nothing to serve.
type SegmentRule struct {
	ID      string   `json:"id,omitempty"`
	Match   string   `json:"match,omitempty"`
	Clauses []Clause `json:"clauses,omitempty"`
}

// Plan is a staged rollout: the percentages a flag's fallthrough (or one rule) moves through,
// one stage at a time. It lives next to the flag (not in snapshots: hosts never see it).
type Plan struct {
	// Rule is the id of the rule whose serve the plan drives; empty for the fallthrough.
	Rule string `json:"rule,omitempty"`
	// Variation receives the stage's percentage; Baseline gets the rest.
	Variation int `json:"variation"`
	Baseline  int `json:"baseline"`
	// Stages are percentages (0–100, at most three decimals), strictly increasing.
	Stages []float64 `json:"stages"`
	// Stage is the index of the stage applied last; -1 before the first advance.
	Stage     int    `json:"stage"`
	CreatedAt string `json:"createdAt,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Marshal renders a document compactly. Documents hold only marshalable types, so it cannot fail.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("flagdoc: " + err.Error()) // unreachable: no channels, funcs or bad floats in documents
	}
	return b
}
