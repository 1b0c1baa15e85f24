// Package peers runs Vexil's benchmark matrix (bench/scenarios) on other feature-flag
// engines — LaunchDarkly's evaluation engine, flagd's core, Unleash's Go client and
// GrowthBook's Go SDK — so the report can set Vexil's numbers beside theirs.
//
// It is its own Go module so that Vexil never depends on the peers. Each peer expresses, in
// its own flag format, the single-flag scenarios it can (Prepare returns ErrNotExpressible for
// the others), and every prepared case is checked for the scenario's answer before it is timed
// (Check). Peers bucket users with their own hash functions, so for rollouts and splits the
// check is that the answer is stable and one of the split's values, and that 10,000 users
// spread over the values by the split's weights.
//
// For the whole-snapshot scenarios (evaluate-all, load) each peer gets the generated snapshot
// translated into its format, less the flags it cannot express (All, Load, Coverage; see
// whole.go), and each translated flag's answer is checked against the native core's
// (CheckAll).
package peers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/vexil-flags/vexil/bench/scenarios"
	"github.com/vexil-flags/vexil/core"
)

// ErrNotExpressible is returned by Prepare for a scenario the peer has no way to express.
var ErrNotExpressible = errors.New("not expressible in this engine")

// Case is one scenario prepared for one peer: the flag in the peer's format, loaded into the
// peer's evaluator, and the request built as the peer's context.
type Case struct {
	// Eval evaluates the scenario's flag for the scenario's context once, the way an
	// application calls the peer's SDK; it is what the benchmark times.
	Eval func()
	// Answer evaluates the flag for the scenario's attributes with targeting key key and
	// returns the served value as compact JSON.
	Answer func(key string) (string, error)
	// Close releases what the case holds (a client's goroutines, a server); may be nil.
	Close func()
}

// Peer is one engine.
type Peer struct {
	// Name is the engine's id in benchmark names: Evaluate/<Name>/<scenario>.
	Name string
	// Prepare builds the case of a single-flag scenario, or returns ErrNotExpressible.
	Prepare func(sc *scenarios.Scenario) (*Case, error)
	// All builds the evaluate-all case of a generated snapshot, and Load its load case, from
	// the snapshot translated into the peer's format (see whole.go).
	All  func(sc *scenarios.Scenario) (*AllCase, error)
	Load func(sc *scenarios.Scenario) (*LoadCase, error)
}

// All lists the peers in report order.
func All() []Peer {
	return []Peer{launchDarkly(), flagd(), unleash(), growthBook()}
}

// Users is how many targeting keys the split checks spread over the split.
const Users = 10000

// Check verifies that c gives sc's answer; see the package comment for rollouts and splits.
func Check(sc *scenarios.Scenario, c *Case) error {
	got, err := c.Answer(sc.Key)
	if err != nil {
		return fmt.Errorf("%s: %v", sc.Name, err)
	}
	if sc.Split == nil {
		if got != sc.Want.Value {
			return fmt.Errorf("%s: served %s, want %s", sc.Name, got, sc.Want.Value)
		}
		return nil
	}
	values, err := variationValues(sc)
	if err != nil {
		return err
	}
	if again, _ := c.Answer(sc.Key); again != got {
		return fmt.Errorf("%s: served %s, then %s to the same user", sc.Name, got, again)
	}
	counts := map[string]int{}
	for i := range Users {
		v, err := c.Answer("user-" + strconv.Itoa(i))
		if err != nil {
			return fmt.Errorf("%s: user-%d: %v", sc.Name, i, err)
		}
		counts[v]++
	}
	total := 0
	for _, w := range sc.Split {
		v := values[w.Variation]
		// Within 2 percentage points of the weight (thousandths of a percent): far outside
		// sampling noise for 10,000 users, far inside any mistake in expressing the split.
		want := float64(w.Weight) / 100000
		if share := float64(counts[v]) / Users; share < want-0.02 || share > want+0.02 {
			return fmt.Errorf("%s: %s served to %.1f%% of %d users, want %.1f%%", sc.Name, v, 100*share, Users, 100*want)
		}
		total += counts[v]
	}
	if total != Users {
		return fmt.Errorf("%s: %d of %d users got a value outside the split: %v", sc.Name, Users-total, Users, counts)
	}
	return nil
}

// variationValues returns the JSON of each variation of the scenario's flag.
func variationValues(sc *scenarios.Scenario) ([]string, error) {
	ev, err := core.Load(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	i := ev.FlagIndex(sc.Flag)
	if i < 0 {
		return nil, fmt.Errorf("%s: flag %q missing", sc.Name, sc.Flag)
	}
	var out []string
	for v := range ev.Snapshot().Flags[i].Variations {
		out = append(out, ev.Value(core.Result{Flag: int32(i), Variation: int32(v)}, ""))
	}
	return out, nil
}

// jsonText renders a served value as compact JSON.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// targets returns the target lists of the scenario's flag by served variation.
func targets(sc *scenarios.Scenario) (map[int][]string, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	out := map[int][]string{}
	if f := d.flag(sc.Flag); f != nil {
		for _, t := range f.Targets {
			out[t.Variation] = append(out[t.Variation], t.Values...)
		}
	}
	return out, nil
}

// segmentMembers returns the included keys of the scenario's only segment.
func segmentMembers(sc *scenarios.Scenario) ([]string, error) {
	d, err := readSnapshot(sc.Snapshot)
	if err != nil {
		return nil, err
	}
	if len(d.Segments) != 1 {
		return nil, fmt.Errorf("%s: %d segments, want 1", sc.Name, len(d.Segments))
	}
	return d.Segments[0].Included, nil
}
