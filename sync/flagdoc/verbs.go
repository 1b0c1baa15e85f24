package flagdoc

import (
	"math"
	"slices"
	"strconv"
)

// Full is 100 % in rollout weights (thousandths of a percent).
const Full = 100000

// Weight converts a percentage (0–100, at most three decimals) to a rollout weight.
func Weight(field string, percent float64) (int, error) {
	w := math.Round(percent * 1000)
	if percent < 0 || percent > 100 || math.IsNaN(percent) || math.Abs(w-percent*1000) > 1e-6 {
		return 0, Errorf(field, "want a percentage from 0 to 100 with at most three decimals, got %v", percent)
	}
	return int(w), nil
}

// Percent converts a rollout weight to a percentage.
func Percent(weight int) float64 { return float64(weight) / 1000 }

// BoolVariations returns the indices of true and false when the flag's variations are exactly
// one true and one false.
func (f *Flag) BoolVariations() (on, off int, ok bool) {
	on, off = -1, -1
	for i, v := range f.Variations {
		switch string(v) {
		case "true":
			on = i
		case "false":
			off = i
		}
	}
	return on, off, len(f.Variations) == 2 && on >= 0 && off >= 0
}

// checkVariation reports an index outside the flag's variations.
func (f *Flag) checkVariation(field string, v int) error {
	if v < 0 || v >= len(f.Variations) {
		return Errorf(field, "variation %d does not exist (the flag has %d)", v, len(f.Variations))
	}
	return nil
}

// DefaultVariations fills in the variation a rollout or pin serves and the baseline that gets
// the rest, when the caller left them out (-1): true and false for a boolean flag, and for
// others the baseline defaults to the off variation; the served one must be named.
func (f *Flag) DefaultVariations(variation, baseline int) (int, int, error) {
	on, off, isBool := f.BoolVariations()
	if variation < 0 {
		if !isBool {
			return 0, 0, Errorf("variation", "required: the flag is not boolean")
		}
		variation = on
	}
	if baseline < 0 {
		switch {
		case isBool:
			baseline = off
			if variation == off {
				baseline = on
			}
		case f.OffVariation != nil:
			baseline = *f.OffVariation
		default:
			return 0, 0, Errorf("baseline", "required: the flag is not boolean and has no offVariation")
		}
	}
	if err := f.checkVariation("variation", variation); err != nil {
		return 0, 0, err
	}
	if err := f.checkVariation("baseline", baseline); err != nil {
		return 0, 0, err
	}
	if variation == baseline {
		return 0, 0, Errorf("baseline", "must differ from variation %d", variation)
	}
	return variation, baseline, nil
}

// serve returns the serve a rollout verb drives: the fallthrough, or the rule with id rule.
func (f *Flag) serve(rule string) (*int, **Rollout, error) {
	if rule == "" {
		if f.Fallthrough == nil {
			f.Fallthrough = &Serve{}
		}
		return nilSafe(&f.Fallthrough.Variation), &f.Fallthrough.Rollout, nil
	}
	for i := range f.Rules {
		if f.Rules[i].ID == rule {
			return nilSafe(&f.Rules[i].Variation), &f.Rules[i].Rollout, nil
		}
	}
	return nil, nil, Errorf("rule", "the flag has no rule with id %q", rule)
}

func nilSafe(p **int) *int {
	if *p == nil {
		return nil
	}
	return *p
}

// RolloutWeight returns the weight the fallthrough (or rule) gives variation: from its rollout,
// or 100 % / 0 % when it serves one variation.
func (f *Flag) RolloutWeight(rule string, variation int) (int, error) {
	v, ro, err := f.serve(rule)
	if err != nil {
		return 0, err
	}
	if *ro != nil {
		w := 0
		for _, wv := range (*ro).Variations {
			if wv.Variation == variation {
				w += wv.Weight
			}
		}
		return w, nil
	}
	if v != nil && *v == variation {
		return Full, nil
	}
	return 0, nil
}

// SetRollout makes the fallthrough (or rule) serve variation to weight thousandths of a
// percent of contexts and baseline to the rest. An existing rollout keeps its bucketBy and
// salt, so raising the weight only adds contexts (bucketing is stable).
func (f *Flag) SetRollout(rule string, variation, baseline, weight int) error {
	if weight < 0 || weight > Full {
		return Errorf("percent", "must be within 0 and 100")
	}
	_, ro, err := f.serve(rule)
	if err != nil {
		return err
	}
	next := &Rollout{Variations: []WeightedVariation{{variation, weight}, {baseline, Full - weight}}}
	if *ro != nil {
		next.BucketBy, next.Salt = (*ro).BucketBy, (*ro).Salt
	}
	*ro = next
	if rule == "" {
		f.Fallthrough.Variation = nil
	} else {
		for i := range f.Rules {
			if f.Rules[i].ID == rule {
				f.Rules[i].Variation = nil
			}
		}
	}
	return nil
}

// Pin serves variation to users by individual targets, moving them from any other target.
func (f *Flag) Pin(users []string, variation int) error {
	if err := f.checkVariation("variation", variation); err != nil {
		return err
	}
	if err := checkUsers(users); err != nil {
		return err
	}
	f.Unpin(users)
	for i := range f.Targets {
		if f.Targets[i].Variation == variation {
			f.Targets[i].Values = append(f.Targets[i].Values, users...)
			return nil
		}
	}
	f.Targets = append(f.Targets, Target{Variation: variation, Values: slices.Clone(users)})
	return nil
}

// Unpin removes users from every target; a target left empty goes.
func (f *Flag) Unpin(users []string) {
	out := f.Targets[:0]
	for _, t := range f.Targets {
		t.Values = slices.DeleteFunc(t.Values, func(u string) bool { return slices.Contains(users, u) })
		if len(t.Values) > 0 {
			out = append(out, t)
		}
	}
	f.Targets = out
	if len(f.Targets) == 0 {
		f.Targets = nil
	}
}

// BlockVariation is the variation that blocks a user: false for a boolean flag, else the
// off variation.
func (f *Flag) BlockVariation() (int, error) {
	if _, off, ok := f.BoolVariations(); ok {
		return off, nil
	}
	if f.OffVariation != nil {
		return *f.OffVariation, nil
	}
	return 0, Errorf("variation", "required: the flag is not boolean and has no offVariation to block with")
}

func checkUsers(users []string) error {
	if len(users) == 0 {
		return Errorf("users", "give at least one user key")
	}
	for i, u := range users {
		if u == "" {
			return Errorf("users["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	return nil
}

// AddMembers adds users to a segment's included or excluded list, taking them out of the other.
func (s *Segment) AddMembers(list string, users []string) error {
	if err := checkUsers(users); err != nil {
		return err
	}
	to, other, err := s.lists(list)
	if err != nil {
		return err
	}
	*other = slices.DeleteFunc(*other, func(u string) bool { return slices.Contains(users, u) })
	for _, u := range users {
		if !slices.Contains(*to, u) {
			*to = append(*to, u)
		}
	}
	return nil
}

// RemoveMembers removes users from a segment's included or excluded list.
func (s *Segment) RemoveMembers(list string, users []string) error {
	if err := checkUsers(users); err != nil {
		return err
	}
	to, _, err := s.lists(list)
	if err != nil {
		return err
	}
	*to = slices.DeleteFunc(*to, func(u string) bool { return slices.Contains(users, u) })
	if len(*to) == 0 {
		*to = nil
	}
	return nil
}

func (s *Segment) lists(list string) (to, other *[]string, err error) {
	switch list {
	case "", "included":
		return &s.Included, &s.Excluded, nil
	case "excluded":
		return &s.Excluded, &s.Included, nil
	}
	return nil, nil, Errorf("list", "want included or excluded, got %q", list)
}

// CheckPlan validates a new staged rollout plan against its flag.
func (f *Flag) CheckPlan(p *Plan) error {
	if len(p.Stages) == 0 {
		return Errorf("stages", "give at least one stage")
	}
	prev := -1
	for i, s := range p.Stages {
		w, err := Weight("stages["+strconv.Itoa(i)+"]", s)
		if err != nil {
			return err
		}
		if w <= prev {
			return Errorf("stages["+strconv.Itoa(i)+"]", "stages must increase")
		}
		prev = w
	}
	if _, _, err := f.serve(p.Rule); err != nil {
		return err
	}
	return nil
}
