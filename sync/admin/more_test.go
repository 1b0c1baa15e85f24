package admin_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

func TestSegments(t *testing.T) {
	h := start(t)
	ss, err := h.c.CreateSegment(h.ctx, "test", &flagdoc.Segment{Key: "beta", Description: "beta testers"})
	if err != nil || ss.Segment.Key != "beta" || ss.Version != 1 {
		t.Fatalf("create: %+v %v", ss, err)
	}
	if _, err := h.c.CreateSegment(h.ctx, "test", &flagdoc.Segment{Key: "beta"}); status(err) != 409 {
		t.Fatalf("duplicate: %v", err)
	}
	ss, err = h.c.SegmentMembers(h.ctx, "test", "beta", "", []string{"u1", "u2", "u3"}, nil)
	if err != nil || !slices.Equal(ss.Segment.Included, []string{"u1", "u2", "u3"}) {
		t.Fatalf("add: %+v %v", ss.Segment, err)
	}
	ss, err = h.c.SegmentMembers(h.ctx, "test", "beta", "excluded", []string{"u2"}, nil)
	if err != nil || !slices.Equal(ss.Segment.Included, []string{"u1", "u3"}) || !slices.Equal(ss.Segment.Excluded, []string{"u2"}) {
		t.Fatalf("exclude moves: %+v %v", ss.Segment, err)
	}
	ss, err = h.c.SegmentMembers(h.ctx, "test", "beta", "", nil, []string{"u1"})
	if err != nil || !slices.Equal(ss.Segment.Included, []string{"u3"}) {
		t.Fatalf("remove: %+v %v", ss.Segment, err)
	}
	if _, err := h.c.SegmentMembers(h.ctx, "test", "nope", "", []string{"u"}, nil); status(err) != 404 {
		t.Fatalf("members of unknown segment: %v", err)
	}
	if _, err := h.c.SegmentMembers(h.ctx, "test", "beta", "", []string{""}, nil); field(err) != "add[0]" {
		t.Fatalf("empty user: %v (%q)", err, field(err))
	}
	bad := &flagdoc.Segment{Key: "beta", Rules: []flagdoc.SegmentRule{{Clauses: []flagdoc.Clause{{Attribute: "v", Op: "semverGt", Values: raws(`"x.y"`)}}}}}
	if _, err := h.c.UpdateSegment(h.ctx, "test", bad, nil); status(err) != 400 || field(err) != "rules[0].clauses[0].values[0]" {
		t.Fatalf("bad segment rule: %v (%q)", err, field(err))
	}
	upd := &flagdoc.Segment{Key: "beta", Included: []string{"a"}}
	if ss, err = h.c.UpdateSegment(h.ctx, "test", upd, nil); err != nil || !slices.Equal(ss.Segment.Included, []string{"a"}) || ss.Segment.Description != "" {
		t.Fatalf("update: %+v %v", ss, err)
	}
	segs, _, err := h.c.Segments(h.ctx, "test")
	if err != nil || len(segs) != 1 {
		t.Fatalf("list: %+v %v", segs, err)
	}
	if _, err := h.c.DeleteSegment(h.ctx, "test", "beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Segment(h.ctx, "test", "beta"); status(err) != 404 {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestEnvironmentsAndSDKKeys(t *testing.T) {
	h := start(t)
	env, keys, err := h.c.CreateEnvironment(h.ctx, "staging", "pre-production")
	if err != nil || env.Key != "staging" || !strings.HasPrefix(keys.Server, "vx_server_") || !strings.HasPrefix(keys.Client, "vx_client_") {
		t.Fatalf("create: %+v %+v %v", env, keys, err)
	}
	if _, _, err := h.c.CreateEnvironment(h.ctx, "staging", ""); status(err) != 409 {
		t.Fatalf("duplicate: %v", err)
	}
	envs, err := h.c.Environments(h.ctx)
	if err != nil || len(envs) != 2 || envs[0].Key != "staging" || envs[1].Key != "test" {
		t.Fatalf("list: %+v %v", envs, err)
	}
	for _, k := range []struct{ key, kind string }{{keys.Server, "server"}, {keys.Client, "client"}} {
		if e, kind, err := h.store.LookupSDKKey(h.ctx, k.key); err != nil || e != "staging" || kind != k.kind {
			t.Fatalf("lookup %s: %s %s %v", k.kind, e, kind, err)
		}
	}
	rotated, err := h.c.RotateSDKKey(h.ctx, "staging", "server")
	if err != nil || rotated.Server == keys.Server || rotated.Client != keys.Client {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	if _, _, err := h.store.LookupSDKKey(h.ctx, keys.Server); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old server key still works: %v", err)
	}
	if e, _, err := h.store.LookupSDKKey(h.ctx, rotated.Server); err != nil || e != "staging" {
		t.Fatalf("new server key: %v", err)
	}
	if got, err := h.c.SDKKeys(h.ctx, "staging"); err != nil || got != rotated {
		t.Fatalf("keys: %+v %v", got, err)
	}
	// Delete, then re-create: the version continues, old keys are gone.
	h.mustCreateIn("staging", boolFlag("x"))
	if err := h.c.DeleteEnvironment(h.ctx, "staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Environment(h.ctx, "staging"); status(err) != 404 {
		t.Fatalf("deleted env: %v", err)
	}
	if _, _, err := h.store.LookupSDKKey(h.ctx, rotated.Client); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("key of deleted env: %v", err)
	}
	env, _, err = h.c.CreateEnvironment(h.ctx, "staging", "")
	if err != nil || env.Version != 1 || env.Flags != 0 {
		t.Fatalf("re-created env must keep its version and lose its flags: %+v %v", env, err)
	}
	if err := h.c.DeleteEnvironment(h.ctx, "nope"); status(err) != 404 {
		t.Fatalf("delete unknown env: %v", err)
	}
}

func (h *harness) mustCreateIn(env string, f *flagdoc.Flag) {
	h.t.Helper()
	if _, err := h.c.CreateFlag(h.ctx, env, f); err != nil {
		h.t.Fatal(err)
	}
}

func TestStagedRolloutPlan(t *testing.T) {
	h := start(t)
	h.mustCreate(boolFlag("checkout"))
	if _, err := h.c.SetPlan(h.ctx, "test", "checkout", client.PlanBody{Stages: []float64{5, 5, 50}}); field(err) != "stages[1]" {
		t.Fatalf("non-increasing stages: %v", err)
	}
	if _, err := h.c.SetPlan(h.ctx, "test", "checkout", client.PlanBody{Stages: []float64{5, 101}}); field(err) != "stages[1]" {
		t.Fatalf("stage over 100: %v", err)
	}
	if _, err := h.c.StepPlan(h.ctx, "test", "checkout", "advance"); status(err) != 404 {
		t.Fatalf("advance without a plan: %v", err)
	}
	fs, err := h.c.SetPlan(h.ctx, "test", "checkout", client.PlanBody{Stages: []float64{1, 25, 100}})
	if err != nil || fs.Plan == nil || fs.Plan.Stage != -1 || fs.Plan.Variation != 1 || fs.Plan.Baseline != 0 || fs.Plan.CreatedBy != "ci/tester" {
		t.Fatalf("set: %+v %v", fs.Plan, err)
	}
	if _, err := h.c.StepPlan(h.ctx, "test", "checkout", "rollback"); status(err) != 409 {
		t.Fatalf("rollback before start: %v", err)
	}
	step := func(s string, wantStage, wantWeight int) {
		t.Helper()
		before := h.version()
		fs, err := h.c.StepPlan(h.ctx, "test", "checkout", s)
		if err != nil || fs.Plan.Stage != wantStage || fs.Version != before+1 {
			t.Fatalf("%s: %+v %v", s, fs.Plan, err)
		}
		if w := fs.Flag.Fallthrough.Rollout.Variations; w[0] != wv(1, wantWeight) || w[1] != wv(0, 100000-wantWeight) {
			t.Fatalf("%s: weights %+v, want %d", s, w, wantWeight)
		}
		es, _ := h.c.Audit(h.ctx, "test", client.AuditQuery{Limit: 1})
		if es[0].Action != "plan."+s || len(es[0].After["flags"]) != 1 || len(es[0].After["plans"]) != 1 {
			t.Fatalf("%s: one entry must carry flag and plan: %+v", s, es[0])
		}
	}
	step("advance", 0, 1000)
	step("advance", 1, 25000)
	step("rollback", 0, 1000)
	step("advance", 1, 25000)
	step("advance", 2, 100000)
	if _, err := h.c.StepPlan(h.ctx, "test", "checkout", "advance"); status(err) != 409 {
		t.Fatalf("advance past the end: %v", err)
	}
	step("rollback", 1, 25000)
	step("rollback", 0, 1000)
	step("rollback", -1, 0)
	if _, err := h.c.StepPlan(h.ctx, "test", "checkout", "jump"); status(err) != 404 {
		t.Fatalf("unknown step: %v", err)
	}
	if _, err := h.c.DeletePlan(h.ctx, "test", "checkout"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := h.c.Flag(h.ctx, "test", "checkout"); fs.Plan != nil {
		t.Fatal("plan not deleted")
	}
}

func TestAuditQueries(t *testing.T) {
	h := start(t)
	h.mustCreate(boolFlag("a"))
	h.mustCreate(boolFlag("b"))
	other := client.New(h.srv.URL, token)
	other.Actor = "ana"
	if _, err := other.FlagVerb(h.ctx, "test", "a", "disable", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.CreateSegment(h.ctx, "test", &flagdoc.Segment{Key: "s"}); err != nil {
		t.Fatal(err)
	}
	all, err := h.c.Audit(h.ctx, "test", client.AuditQuery{})
	if err != nil || len(all) != 4 || all[0].Version != 4 || all[3].Version != 1 {
		t.Fatalf("all, newest first: %+v %v", all, err)
	}
	e := all[1]
	if e.Action != "flag.disable" || e.Actor != "ci/ana" || e.Subject != "flags/a" {
		t.Fatalf("entry: %+v", e)
	}
	var before, after flagdoc.Flag
	_ = json.Unmarshal(e.Before["flags"]["a"], &before)
	_ = json.Unmarshal(e.After["flags"]["a"], &after)
	if !before.Enabled || after.Enabled {
		t.Fatalf("before/after: %v → %v", before.Enabled, after.Enabled)
	}
	if ts, err := time.Parse(time.RFC3339Nano, e.Time); err != nil || time.Since(ts) > time.Minute {
		t.Fatalf("time %q: %v", e.Time, err)
	}
	if string(all[3].Before["flags"]["a"]) != "null" {
		t.Fatalf("create's before must be null: %s", all[3].Before["flags"]["a"])
	}
	count := func(q client.AuditQuery) []uint64 {
		t.Helper()
		es, err := h.c.Audit(h.ctx, "test", q)
		if err != nil {
			t.Fatal(err)
		}
		var vs []uint64
		for _, e := range es {
			vs = append(vs, e.Version)
		}
		return vs
	}
	for _, c := range []struct {
		q    client.AuditQuery
		want []uint64
	}{
		{client.AuditQuery{Flag: "a"}, []uint64{3, 1}},
		{client.AuditQuery{Flag: "a", Oldest: true}, []uint64{1, 3}},
		{client.AuditQuery{Segment: "s"}, []uint64{4}},
		{client.AuditQuery{Actor: "ci/ana"}, []uint64{3}},
		{client.AuditQuery{Limit: 2}, []uint64{4, 3}},
		{client.AuditQuery{Since: time.Now().Add(time.Hour)}, nil},
		{client.AuditQuery{Until: time.Now().Add(-time.Hour)}, nil},
		{client.AuditQuery{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour), Oldest: true}, []uint64{1, 2, 3, 4}},
		{client.AuditQuery{After: all[2].ID, Oldest: true}, []uint64{3, 4}},
	} {
		if got := count(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%+v: versions %v, want %v", c.q, got, c.want)
		}
	}
}

func TestExplain(t *testing.T) {
	h := start(t)
	data, err := os.ReadFile("../../core/testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Import(h.ctx, "test", data); err != nil {
		t.Fatal(err)
	}
	out, err := h.c.Explain(h.ctx, "test", client.ExplainBody{Flag: "new-checkout", Context: json.RawMessage(`{"targetingKey":"user-42"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var x struct {
		Flag   string          `json:"flag"`
		Value  json.RawMessage `json:"value"`
		Reason string          `json:"reason"`
		Steps  []struct {
			Step    string `json:"step"`
			Matched bool   `json:"matched"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out, &x); err != nil || x.Flag != "new-checkout" || string(x.Value) != "true" || x.Reason != "TARGETING_MATCH" {
		t.Fatalf("explain: %s %v", out, err)
	}
	if len(x.Steps) == 0 || x.Steps[len(x.Steps)-1].Step != "target" || !x.Steps[len(x.Steps)-1].Matched {
		t.Fatalf("steps must end with the matching target: %s", out)
	}
	out, err = h.c.Explain(h.ctx, "test", client.ExplainBody{Context: json.RawMessage(`{"targetingKey":"u"}`), Now: json.RawMessage(`"2026-11-23T00:00:00Z"`), Random: new(uint32)})
	var all struct {
		Version uint64            `json:"version"`
		Results []json.RawMessage `json:"results"`
	}
	if err != nil || json.Unmarshal(out, &all) != nil || all.Version != 1 || len(all.Results) != 11 {
		t.Fatalf("explain all: %v %s", err, out)
	}
	if _, err := h.c.Explain(h.ctx, "test", client.ExplainBody{Flag: "nope", Context: json.RawMessage(`{}`)}); status(err) != 404 {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := h.c.Explain(h.ctx, "test", client.ExplainBody{Flag: "new-checkout", Context: json.RawMessage(`{}`), Now: json.RawMessage(`"soon"`)}); field(err) != "now" {
		t.Fatalf("bad now: %v", err)
	}
}

func TestImportIsOneChange(t *testing.T) {
	h := start(t)
	data, _ := os.ReadFile("../../core/testdata/example.json")
	res, err := h.c.Import(h.ctx, "test", data)
	if err != nil || res.Version != 1 || res.Flags != 11 || res.Segments != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	// The assembled snapshot loads in the engine exactly as the source does.
	snap, err := h.c.Snapshot(h.ctx, "test")
	if err != nil || !strings.Contains(string(snap), `"environment":"test","version":1`) {
		t.Fatalf("snapshot: %v %.80s", err, snap)
	}
	res, err = h.c.Import(h.ctx, "test", data)
	if err != nil || res.Changed || res.Version != 1 {
		t.Fatalf("re-import of the same documents must change nothing: %+v %v", res, err)
	}
	bad := strings.Replace(string(data), `"op": "endsWith"`, `"op": "endsWidth"`, 1)
	if _, err := h.c.Import(h.ctx, "test", json.RawMessage(bad)); status(err) != 400 || !strings.HasPrefix(field(err), `flags["`) {
		t.Fatalf("bad import: %v (%q)", err, field(err))
	}
}

func TestOpsEndpoints(t *testing.T) {
	h := start(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(h.srv.URL + path) // no token: ops endpoints and the OpenAPI document are open
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/healthz"); st != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", st, body)
	}
	if st, _ := get("/readyz"); st != 200 {
		t.Fatalf("readyz: %d", st)
	}
	h.mustCreate(boolFlag("a"))
	_, _ = h.c.Flag(h.ctx, "test", "nope")
	st, body := get("/metrics")
	for _, want := range []string{
		`vexil_http_requests_total{code="201",method="POST",route="POST /api/v1/environments/{env}/flags"} 1`,
		`vexil_http_requests_total{code="404",method="GET",route="GET /api/v1/environments/{env}/flags/{key}"} 1`,
		`vexil_changes_total{action="flag.create",outcome="applied"} 1`,
		`vexil_redis_up 1`,
		`vexil_http_request_duration_seconds_bucket`,
		`go_goroutines`,
	} {
		if st != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	st, body = get("/api/v1/openapi.json")
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if st != 200 || json.Unmarshal([]byte(body), &doc) != nil || !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) < 15 {
		t.Fatalf("openapi: %d, %d paths", st, len(doc.Paths))
	}
	if st, _ := get("/api/v1/environments"); st != 401 {
		t.Fatalf("API without token: %d", st)
	}
}

// Flag keys are any UTF-8: slashes, spaces, percent signs and non-ASCII survive the path.
func TestOddFlagKeys(t *testing.T) {
	h := start(t)
	for _, key := range []string{"a/b", "with space", "100%", "ünïcode-✓", "q?x=1#y"} {
		h.mustCreate(boolFlag(key))
		fs, err := h.c.FlagVerb(h.ctx, "test", key, "disable", nil)
		if err != nil || fs.Flag.Key != key || fs.Flag.Enabled {
			t.Errorf("%q: %+v %v", key, fs.Flag, err)
		}
		if _, err := h.c.DeleteFlag(h.ctx, "test", key); err != nil {
			t.Errorf("delete %q: %v", key, err)
		}
	}
}

// A method an endpoint does not take gets 405 with the methods it does take in Allow; a path
// no endpoint has gets 404. Both are JSON errors, and neither changes anything.
func TestWrongMethod(t *testing.T) {
	h := start(t)
	h.mustCreate(boolFlag("a"))
	before := h.fingerprint()
	for _, c := range []struct{ method, path, allow string }{
		{"PATCH", "/api/v1/environments/test/flags/a", "GET, PUT, DELETE"},
		{"DELETE", "/api/v1/environments", "GET, POST"},
		{"GET", "/api/v1/environments/test/kill", "POST"},
		{"PUT", "/api/v1/environments/test/flags/a/plan/advance", "POST"},
		{"GET", "/api/v1/nothing/here", ""},
	} {
		req, _ := http.NewRequest(c.method, h.srv.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e errorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		wantStatus, wantCode := 405, "method_not_allowed"
		if c.allow == "" {
			wantStatus, wantCode = 404, "not_found"
		}
		if resp.StatusCode != wantStatus || e.Code != wantCode || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q, Allow %q; want %d %q, Allow %q", c.method, c.path, resp.StatusCode, e.Code,
				resp.Header.Get("Allow"), wantStatus, wantCode, c.allow)
		}
	}
	if h.fingerprint() != before {
		t.Fatal("a refused request changed Redis")
	}
}
