package admin_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

func TestFlagCRUDAndVerbs(t *testing.T) {
	h := start(t)
	fs := h.mustCreate(boolFlag("checkout", "web", "payments"))
	if fs.Version != 1 || !fs.Changed || fs.Flag.CreatedAt == "" || fs.Flag.UpdatedAt == "" {
		t.Fatalf("create: %+v", fs)
	}
	other := boolFlag("search", "backend")
	other.Type = "ops"
	h.mustCreate(other)
	if _, err := h.c.CreateFlag(h.ctx, "test", boolFlag("checkout")); status(err) != 409 {
		t.Fatalf("duplicate create: %v", err)
	}

	// Read and list with filters.
	got, err := h.c.Flag(h.ctx, "test", "checkout")
	if err != nil || got.Version != 2 || got.Flag.Key != "checkout" || got.Archived {
		t.Fatalf("get: %+v %v", got, err)
	}
	for _, c := range []struct {
		f    client.FlagFilter
		want []string
	}{
		{client.FlagFilter{}, []string{"checkout", "search"}},
		{client.FlagFilter{Tag: "web"}, []string{"checkout"}},
		{client.FlagFilter{Type: "ops"}, []string{"search"}},
		{client.FlagFilter{Type: "release"}, []string{"checkout"}},
		{client.FlagFilter{Prefix: "se"}, []string{"search"}},
		{client.FlagFilter{Archived: true}, []string{}},
	} {
		flags, _, err := h.c.Flags(h.ctx, "test", c.f)
		keys := []string{}
		for _, f := range flags {
			keys = append(keys, f.Key)
		}
		if err != nil || !slices.Equal(keys, c.want) {
			t.Errorf("list %+v: %v %v, want %v", c.f, keys, err, c.want)
		}
	}

	// Update keeps createdAt, stamps updatedAt, and validates.
	upd := boolFlag("checkout", "web")
	upd.Description = "new flow"
	fs, err = h.c.UpdateFlag(h.ctx, "test", upd, nil)
	if err != nil || fs.Flag.Description != "new flow" || fs.Flag.CreatedAt != got.Flag.CreatedAt || fs.Version != 3 {
		t.Fatalf("update: %+v %v", fs, err)
	}

	verb := func(name string, b *client.VerbBody) client.FlagState {
		t.Helper()
		fs, err := h.c.FlagVerb(h.ctx, "test", "checkout", name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return fs
	}
	if fs := verb("disable", nil); fs.Flag.Enabled || !fs.Changed {
		t.Fatalf("disable: %+v", fs)
	}
	if fs := verb("disable", nil); fs.Changed || fs.Version != 4 {
		t.Fatalf("disable again must change nothing: %+v", fs)
	}
	if fs := verb("toggle", nil); !fs.Flag.Enabled {
		t.Fatal("toggle did not enable")
	}
	if fs := verb("toggle", nil); fs.Flag.Enabled {
		t.Fatal("toggle did not disable")
	}
	if fs := verb("enable", nil); !fs.Flag.Enabled || fs.Version != 7 {
		t.Fatalf("enable: %+v", fs)
	}

	// Rollout: set, increment, decrement, clamp; true gets the percentage, false the rest.
	weights := func(fs client.FlagState) []flagdoc.WeightedVariation {
		return fs.Flag.Fallthrough.Rollout.Variations
	}
	fs = verb("rollout", &client.VerbBody{Percent: floatp(10)})
	if w := weights(fs); !slices.Equal(w, []flagdoc.WeightedVariation{wv(1, 10000), wv(0, 90000)}) || fs.Flag.Fallthrough.Variation != nil {
		t.Fatalf("rollout 10: %+v", w)
	}
	fs = verb("rollout", &client.VerbBody{By: floatp(15.5)})
	if w := weights(fs); w[0].Weight != 25500 || w[1].Weight != 74500 {
		t.Fatalf("rollout +15.5: %+v", w)
	}
	fs = verb("rollout", &client.VerbBody{By: floatp(-30)})
	if w := weights(fs); w[0].Weight != 0 {
		t.Fatalf("rollout -30 clamps at 0: %+v", w)
	}
	fs = verb("rollout", &client.VerbBody{By: floatp(100)})
	if w := weights(fs); w[0].Weight != 100000 || w[1].Weight != 0 {
		t.Fatalf("rollout +100: %+v", w)
	}
	for _, bad := range []struct {
		b     *client.VerbBody
		field string
	}{
		{&client.VerbBody{Percent: floatp(101)}, "percent"},
		{&client.VerbBody{By: floatp(150)}, "by"},
		{&client.VerbBody{Percent: floatp(1.0001)}, "percent"},
		{&client.VerbBody{}, "percent"},
		{&client.VerbBody{Percent: floatp(5), By: floatp(1)}, "percent"},
		{&client.VerbBody{Percent: floatp(5), Variation: intp(7)}, "variation"},
		{&client.VerbBody{Percent: floatp(5), Rule: "nope"}, "rule"},
		{&client.VerbBody{Percent: floatp(5), Users: []string{"u"}}, "users"},
	} {
		if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", "rollout", bad.b); status(err) != 400 || field(err) != bad.field {
			t.Errorf("rollout %+v: %v (field %q), want 400 naming %q", bad.b, err, field(err), bad.field)
		}
	}

	// Rollout inside a rule.
	withRule := boolFlag("rules")
	withRule.Rules = []flagdoc.Rule{{ID: "pro", Clauses: []flagdoc.Clause{{Attribute: "plan", Op: "in", Values: raws(`"pro"`)}}, Variation: intp(1)}}
	h.mustCreate(withRule)
	fs, err = h.c.FlagVerb(h.ctx, "test", "rules", "rollout", &client.VerbBody{Percent: floatp(40), Rule: "pro"})
	if err != nil || fs.Flag.Rules[0].Variation != nil || fs.Flag.Rules[0].Rollout.Variations[0] != wv(1, 40000) {
		t.Fatalf("rule rollout: %+v %v", fs.Flag.Rules, err)
	}

	// Pin, block, unpin: a user is in at most one target.
	fs = verb("pin", &client.VerbBody{Users: []string{"u1", "u2"}})
	if !reflect.DeepEqual(fs.Flag.Targets, []flagdoc.Target{{Variation: 1, Values: []string{"u1", "u2"}}}) {
		t.Fatalf("pin: %+v", fs.Flag.Targets)
	}
	fs = verb("block", &client.VerbBody{Users: []string{"u2", "u3"}})
	if len(fs.Flag.Targets) != 2 || !slices.Equal(fs.Flag.Targets[0].Values, []string{"u1"}) ||
		fs.Flag.Targets[1].Variation != 0 || !slices.Equal(fs.Flag.Targets[1].Values, []string{"u2", "u3"}) {
		t.Fatalf("block: %+v", fs.Flag.Targets)
	}
	fs = verb("unpin", &client.VerbBody{Users: []string{"u1", "u3"}})
	if len(fs.Flag.Targets) != 1 || !slices.Equal(fs.Flag.Targets[0].Values, []string{"u2"}) {
		t.Fatalf("unpin: %+v", fs.Flag.Targets)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", "pin", &client.VerbBody{Users: []string{""}}); field(err) != "users[0]" {
		t.Fatalf("pin empty user: %v", err)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", "pin", &client.VerbBody{Users: []string{"x"}, Variation: intp(2)}); field(err) != "variation" {
		t.Fatalf("pin bad variation: %v", err)
	}

	// Schedule: set, refuse a bad time (the engine's check), clear.
	nb, na := "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"
	fs = verb("schedule", &client.VerbBody{NotBefore: &nb, NotAfter: &na})
	if fs.Flag.Schedule == nil || fs.Flag.Schedule.NotBefore != nb || fs.Flag.Schedule.NotAfter != na {
		t.Fatalf("schedule: %+v", fs.Flag.Schedule)
	}
	bad := "tomorrow"
	if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", "schedule", &client.VerbBody{NotBefore: &bad}); status(err) != 400 || field(err) != "schedule.notBefore" {
		t.Fatalf("bad schedule: %v (%q)", err, field(err))
	}
	if fs = verb("schedule", &client.VerbBody{}); fs.Flag.Schedule != nil {
		t.Fatalf("schedule clear: %+v", fs.Flag.Schedule)
	}

	// Archive takes the flag out of the snapshot; verbs on it are refused; unarchive restores.
	fs = verb("archive", nil)
	if !fs.Archived {
		t.Fatalf("archive: %+v", fs)
	}
	snap, _ := h.c.Snapshot(h.ctx, "test")
	if slices.Contains(snapKeys(t, snap), "checkout") {
		t.Fatal("archived flag still in the snapshot")
	}
	if flags, _, _ := h.c.Flags(h.ctx, "test", client.FlagFilter{Archived: true}); len(flags) != 1 || flags[0].Key != "checkout" {
		t.Fatalf("archived list: %+v", flags)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", "enable", nil); status(err) != 409 {
		t.Fatalf("enable archived: %v", err)
	}
	if _, err := h.c.CreateFlag(h.ctx, "test", boolFlag("checkout")); status(err) != 409 {
		t.Fatalf("create over archived: %v", err)
	}
	if fs = verb("unarchive", nil); fs.Archived {
		t.Fatalf("unarchive: %+v", fs)
	}
	snap, _ = h.c.Snapshot(h.ctx, "test")
	if !slices.Contains(snapKeys(t, snap), "checkout") {
		t.Fatal("unarchived flag not in the snapshot")
	}

	// A flag another depends on cannot be archived or deleted: the dependent is named.
	dep := boolFlag("dependent")
	dep.Prerequisites = []flagdoc.Prerequisite{{Flag: "checkout", Variations: []int{1}}}
	h.mustCreate(dep)
	for _, v := range []string{"archive"} {
		if _, err := h.c.FlagVerb(h.ctx, "test", "checkout", v, nil); status(err) != 400 || field(err) != `flags["dependent"].prerequisites[0].flag` {
			t.Fatalf("%s a prerequisite: %v (%q)", v, err, field(err))
		}
	}
	if _, err := h.c.DeleteFlag(h.ctx, "test", "checkout"); status(err) != 400 || field(err) != `flags["dependent"].prerequisites[0].flag` {
		t.Fatalf("delete a prerequisite: %v", err)
	}
	if _, err := h.c.DeleteFlag(h.ctx, "test", "dependent"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.DeleteFlag(h.ctx, "test", "checkout"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Flag(h.ctx, "test", "checkout"); status(err) != 404 {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := h.c.DeleteFlag(h.ctx, "test", "checkout"); status(err) != 404 {
		t.Fatalf("delete deleted: %v", err)
	}
	for _, v := range []string{"enable", "rollout", "pin", "archive", "unarchive"} {
		if _, err := h.c.FlagVerb(h.ctx, "test", "nope", v, &client.VerbBody{}); status(err) != 404 && status(err) != 400 {
			t.Errorf("%s unknown flag: %v", v, err)
		}
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "nope", "enable", nil); status(err) != 404 {
		t.Errorf("enable unknown flag: %v", err)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "search", "frobnicate", nil); status(err) != 404 {
		t.Errorf("unknown verb: %v", err)
	}
}

func snapKeys(t *testing.T, snap []byte) []string {
	t.Helper()
	var s struct {
		Flags []flagdoc.Flag `json:"flags"`
	}
	if err := jsonUnmarshal(snap, &s); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, f := range s.Flags {
		keys = append(keys, f.Key)
	}
	return keys
}

func TestNonBooleanVerbs(t *testing.T) {
	h := start(t)
	color := &flagdoc.Flag{Key: "color", Enabled: true, Variations: raws(`"blue"`, `"green"`, `"red"`), Fallthrough: &flagdoc.Serve{Variation: intp(0)}}
	h.mustCreate(color)
	if _, err := h.c.FlagVerb(h.ctx, "test", "color", "rollout", &client.VerbBody{Percent: floatp(10)}); field(err) != "variation" {
		t.Fatalf("rollout without variation on a string flag: %v", err)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "color", "rollout", &client.VerbBody{Percent: floatp(10), Variation: intp(1)}); field(err) != "baseline" {
		t.Fatalf("rollout without baseline or offVariation: %v", err)
	}
	fs, err := h.c.FlagVerb(h.ctx, "test", "color", "rollout", &client.VerbBody{Percent: floatp(10), Variation: intp(1), Baseline: intp(2)})
	if err != nil || !slices.Equal(fs.Flag.Fallthrough.Rollout.Variations, []flagdoc.WeightedVariation{wv(1, 10000), wv(2, 90000)}) {
		t.Fatalf("rollout: %+v %v", fs.Flag, err)
	}
	if _, err := h.c.FlagVerb(h.ctx, "test", "color", "block", &client.VerbBody{Users: []string{"u"}}); field(err) != "variation" {
		t.Fatalf("block without off variation: %v", err)
	}
	fs, err = h.c.FlagVerb(h.ctx, "test", "color", "pin", &client.VerbBody{Users: []string{"u"}, Variation: intp(2)})
	if err != nil || fs.Flag.Targets[0].Variation != 2 {
		t.Fatalf("pin: %+v %v", fs.Flag, err)
	}
}
