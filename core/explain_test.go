package core_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
)

// Explain reaches Evaluate's result on every golden vector, and its JSON is valid.
func TestExplainAgreesWithEvaluate(t *testing.T) {
	f, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range f.Suites {
		ev, err := core.Load(s.Snapshot)
		if err != nil {
			t.Fatalf("%s: load: %v", s.Name, err)
		}
		ctx := ev.NewContext()
		for i := range s.Cases {
			c := &s.Cases[i]
			if err := ctx.SetJSON(c.ContextJSON()); err != nil {
				continue // INVALID_CONTEXT cases never reach the evaluator
			}
			ctx.Now, ctx.Random = c.Now, c.Random
			fi := ev.FlagIndex(c.Flag)
			x := ev.Explain(fi, ctx)
			if want := ev.Evaluate(fi, ctx); x.Result != want {
				t.Errorf("%s/%s: Explain %+v, Evaluate %+v", s.Name, c.Name, x.Result, want)
			}
			out := ev.AppendExplanationJSON(nil, x)
			if !json.Valid(out) {
				t.Errorf("%s/%s: invalid JSON %s", s.Name, c.Name, out)
			}
			n++
		}
	}
	if n < 500 {
		t.Fatalf("only %d cases explained", n)
	}
}

// The worked example: each decision is recorded, in order, with the context's values.
func TestExplainSteps(t *testing.T) {
	data, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ev.NewContext()
	if err := ctx.SetJSON([]byte(`{"targetingKey":"user-7","email":"ana@example.com","country":"DE","plan":"pro"}`)); err != nil {
		t.Fatal(err)
	}
	x := ev.Explain(ev.FlagIndex("new-checkout"), ctx)
	var got []string
	for _, s := range x.Steps {
		got = append(got, string(s.Kind)+" "+s.Path+" "+s.Ref+" "+map[bool]string{true: "yes", false: "no"}[s.Matched])
	}
	want := []string{
		"enabled enabled new-checkout yes",
		"target targets targetingKey no",
		"rule rules[0] internal-staff no",
		"clause rules[0].clauses[0] email yes",
		"clause rules[0].clauses[1] country no",
		"rule rules[1] pro-rollout yes",
		"clause rules[1].clauses[0] plan yes",
		"rollout rules[1].rollout targetingKey yes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := x.Steps[4].Detail; d != `country "DE" not in ["DE","FR"]` {
		t.Errorf("clause detail = %q", d)
	}
	if r := ev.Evaluate(ev.FlagIndex("new-checkout"), ctx); x.Result != r || r.Reason() != core.ReasonSplit {
		t.Errorf("result %+v, Evaluate %+v", x.Result, r)
	}
	var doc struct {
		Flag  string `json:"flag"`
		Steps []struct {
			Step, Path, Detail string
			Matched            bool
		} `json:"steps"`
	}
	if err := json.Unmarshal(ev.AppendExplanationJSON(nil, x), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Flag != "new-checkout" || len(doc.Steps) != len(want) || doc.Steps[5].Detail != "every clause matched (match all)" {
		t.Errorf("JSON: %+v", doc)
	}

	// Unknown flags and foreign contexts explain themselves as errors, with no steps.
	if x := ev.Explain(-1, ctx); x.Result.ErrorCode() != core.ErrorFlagNotFound || len(x.Steps) != 0 {
		t.Errorf("unknown flag: %+v", x)
	}
}
