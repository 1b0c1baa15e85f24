package sdkapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

func TestSnapshotETagAndGzip(t *testing.T) {
	e := start(t)
	v := changes(t, e.admin, 6, "g")
	url := e.srv.URL + "/sdk/v1/snapshot"
	code, h, body := get(t, url, bearer(e.keys.Server))
	if code != 200 || h.Get("ETag") != fmt.Sprintf(`"%d"`, v) || h.Get("Content-Encoding") != "" {
		t.Fatalf("GET: %d ETag %q encoding %q", code, h.Get("ETag"), h.Get("Content-Encoding"))
	}
	if string(body) != e.adminSnapshot() {
		t.Fatalf("snapshot %s\nwant %s", body, e.adminSnapshot())
	}
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("server-key response carries CORS headers")
	}
	for _, inm := range []string{h.Get("ETag"), `W/` + h.Get("ETag"), `"1", ` + h.Get("ETag"), "*"} {
		code, h2, body := get(t, url, map[string]string{"Authorization": "Bearer " + e.keys.Server, "If-None-Match": inm})
		if code != http.StatusNotModified || len(body) != 0 || h2.Get("ETag") != h.Get("ETag") {
			t.Fatalf("If-None-Match %s: %d, %d bytes", inm, code, len(body))
		}
	}
	if code, _, _ := get(t, url, map[string]string{"Authorization": "Bearer " + e.keys.Server, "If-None-Match": `"1"`}); code != 200 {
		t.Fatalf("stale If-None-Match: %d", code)
	}
	code, hz, zbody := get(t, url, map[string]string{"Authorization": "Bearer " + e.keys.Server, "Accept-Encoding": "br, gzip"})
	if code != 200 || hz.Get("Content-Encoding") != "gzip" || !strings.Contains(hz.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: %d %v", code, hz)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zbody))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, body) {
		t.Fatalf("gunzipped body differs (%v)", err)
	}
	if code, hz, _ := get(t, url, map[string]string{"Authorization": "Bearer " + e.keys.Server, "Accept-Encoding": "gzip;q=0"}); code != 200 || hz.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 answered gzipped")
	}

	// A change moves the ETag; the old one no longer matches.
	v2 := changes(t, e.admin, 1, "g2")
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, h3, _ := get(t, url, map[string]string{"Authorization": "Bearer " + e.keys.Server, "If-None-Match": h.Get("ETag")})
		if code == 200 && h3.Get("ETag") == fmt.Sprintf(`"%d"`, v2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a change: %d ETag %q, want 200 with version %d", code, h3.Get("ETag"), v2)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeys(t *testing.T) {
	e := start(t)
	url := e.srv.URL + "/sdk/v1/snapshot"
	for name, hdr := range map[string]map[string]string{
		"missing": nil,
		"wrong":   bearer("vx_server_00000000000000000000000000000000"),
		"admin":   bearer(token),
	} {
		if code, _, body := get(t, url, hdr); code != 401 || !strings.Contains(string(body), `"unauthorized"`) {
			t.Fatalf("%s key: %d %s", name, code, body)
		}
		if code, _, _ := get(t, e.srv.URL+"/sdk/v1/stream", hdr); code != 401 {
			t.Fatalf("%s key on the stream: %d", name, code)
		}
	}
	// Server keys never in the URL; client keys may be (EventSource cannot set headers).
	if code, _, _ := get(t, url+"?key="+e.keys.Server, nil); code != 401 {
		t.Fatalf("server key in the query: %d", code)
	}
	if code, _, _ := get(t, url+"?key="+e.keys.Client, nil); code != 200 {
		t.Fatalf("client key in the query: %d", code)
	}
	// SDK keys do not open the admin API.
	for _, k := range []string{e.keys.Client, e.keys.Server} {
		if code, _, _ := get(t, e.srv.URL+"/api/v1/environments/test/snapshot", bearer(k)); code != 401 {
			t.Fatalf("SDK key on the admin API: %d", code)
		}
	}
	// A rotated key stops working at once.
	if _, err := e.admin.RotateSDKKey(e.ctx, "test", "client"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, url, bearer(e.keys.Client)); code != 401 {
		t.Fatalf("rotated client key: %d", code)
	}
	// Preflight.
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/ofrep/v1/evaluate/flags", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// clientSetup writes flags and segments full of raw keys: two client-side flags (one with
// targets and a segment rule), one server-only flag, a segment a client flag uses and one it
// does not.
func clientSetup(t *testing.T, e *env) {
	t.Helper()
	ctx := e.ctx
	for _, s := range []*flagdoc.Segment{
		{Key: "beta-users", Included: []string{"seg-alice@example.com"}, Excluded: []string{"seg-mallory-id-77"},
			Rules: []flagdoc.SegmentRule{{ID: "pro", Clauses: []flagdoc.Clause{{Attribute: "plan", Op: "in", Values: raws(`"pro"`)}}}}},
		{Key: "staff-only-segment", Included: []string{"secret-staff-id-1"}},
	} {
		if _, err := e.admin.CreateSegment(ctx, "test", s); err != nil {
			t.Fatal(err)
		}
	}
	cf := boolFlag("client-checkout")
	cf.ClientSide = true
	cf.Targets = []flagdoc.Target{{Variation: 1, Values: []string{"target-bob@example.com", "target-carol-id-42"}}}
	cf.Rules = []flagdoc.Rule{{ID: "beta", Clauses: []flagdoc.Clause{{Attribute: "targetingKey", Op: "inSegment", Values: raws(`"beta-users"`)}},
		Variation: intp(1)}}
	cf.Fallthrough = &flagdoc.Serve{Rollout: &flagdoc.Rollout{Variations: []flagdoc.WeightedVariation{{Variation: 0, Weight: 50000}, {Variation: 1, Weight: 50000}}}}
	banner := &flagdoc.Flag{Key: "client-banner", ClientSide: true, Enabled: true, Variations: raws(`"blue"`, `"green"`),
		OffVariation: intp(0), Fallthrough: &flagdoc.Serve{Variation: intp(1)},
		Targets: []flagdoc.Target{{Variation: 0, Values: []string{"target-bob@example.com"}}}}
	secret := boolFlag("server-only-secret-flag")
	secret.Rules = []flagdoc.Rule{{ID: "staff", Clauses: []flagdoc.Clause{{Attribute: "targetingKey", Op: "inSegment", Values: raws(`"staff-only-segment"`)}},
		Variation: intp(1)}}
	for _, f := range []*flagdoc.Flag{cf, banner, secret} {
		if _, err := e.admin.CreateFlag(ctx, "test", f); err != nil {
			t.Fatal(err)
		}
	}
}

var rawKeys = []string{"seg-alice@example.com", "seg-mallory-id-77", "secret-staff-id-1", "target-bob@example.com",
	"target-carol-id-42", "server-only-secret-flag", "staff-only-segment"}

func TestClientSnapshotIsSafeAndEvaluatesAlike(t *testing.T) {
	e := start(t)
	clientSetup(t, e)
	url := e.srv.URL + "/sdk/v1/snapshot"
	_, _, full := get(t, url, bearer(e.keys.Server))
	code, h, cli := get(t, url, bearer(e.keys.Client))
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("client snapshot: %d %v", code, h)
	}
	for _, k := range rawKeys {
		if !bytes.Contains(full, []byte(k)) {
			t.Fatalf("test setup: %q not in the full snapshot", k)
		}
		if bytes.Contains(cli, []byte(k)) {
			t.Fatalf("client snapshot holds %q: %s", k, cli)
		}
	}
	if !bytes.Contains(cli, []byte(`"hashedKeys":{"salt":"`)) || !bytes.Contains(cli, []byte(`"client-banner"`)) {
		t.Fatalf("client snapshot: %s", cli)
	}
	// The client stream says no more.
	hst := newHost(t, e.keys.Client)
	if _, err := hst.connect(e.srv.URL, false, nil); err != nil {
		t.Fatal(err)
	}
	// A change to a server-only flag and a client flag: the client sees the version move, and
	// only the client flag.
	secret := boolFlag("server-only-secret-flag")
	secret.Targets = []flagdoc.Target{{Variation: 1, Values: []string{"secret-staff-id-1"}}}
	if _, err := e.admin.UpdateFlag(e.ctx, "test", secret, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := e.admin.FlagVerb(e.ctx, "test", "client-banner", "toggle", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hst.waitVersion(fs.Version, 5*time.Second) {
		t.Fatalf("client stream at %d, want %d", hst.current(), fs.Version)
	}
	hst.checkOrder("client host")
	hst.mu.Lock()
	raw := hst.raw.String()
	hst.mu.Unlock()
	for _, k := range rawKeys {
		if strings.Contains(raw, k) {
			t.Fatalf("client stream carried %q:\n%s", k, raw)
		}
	}
	if !strings.Contains(raw, `"client-banner":{`) {
		t.Fatalf("client stream lacks the banner patch:\n%s", raw)
	}
	_, _, cli = get(t, url, bearer(e.keys.Client))
	_, _, full = get(t, url, bearer(e.keys.Server))
	// The host's rebuilt state is the daemon's browser-safe snapshot.
	var head struct {
		HashedKeys json.RawMessage `json:"hashedKeys"`
	}
	_ = json.Unmarshal(cli, &head)
	if string(head.HashedKeys) != string(hst.hashed) {
		t.Fatalf("salt moved: %s vs %s", head.HashedKeys, hst.hashed)
	}
	want := strings.Replace(string(cli), `{"hashedKeys":`+string(head.HashedKeys)+`,`, "{", 1)
	if got := hst.snapshot(); got != want {
		t.Fatalf("client host state:\n got %s\nwant %s", got, want)
	}

	// Same results through the core for every client flag and a spread of contexts.
	evFull, err := core.Load(full)
	if err != nil {
		t.Fatal(err)
	}
	evCli, err := core.Load(cli)
	if err != nil || len(evCli.Snapshot().Problems) != 0 {
		t.Fatalf("client snapshot does not load: %v %v", err, evCli.Snapshot().Problems)
	}
	if evCli.FlagIndex("server-only-secret-flag") >= 0 || evCli.FlagIndex("client-checkout") < 0 {
		t.Fatal("client snapshot has the wrong flags")
	}
	contexts := []string{`{}`}
	for _, k := range append(rawKeys, "nobody", "user-1", "user-2", "user-3") {
		contexts = append(contexts, fmt.Sprintf(`{"targetingKey":%q}`, k), fmt.Sprintf(`{"targetingKey":%q,"plan":"pro"}`, k))
	}
	seen := map[string]bool{}
	for _, flag := range []string{"client-checkout", "client-banner"} {
		for _, c := range contexts {
			res := [2]string{}
			for i, ev := range []*core.Evaluator{evFull, evCli} {
				ctx := ev.NewContext()
				if err := ctx.SetJSON([]byte(c)); err != nil {
					t.Fatal(err)
				}
				ctx.Now = time.Now().UnixMilli()
				res[i] = string(ev.AppendJSON(nil, flag, ev.EvaluateKey(flag, ctx), "null"))
			}
			if res[0] != res[1] {
				t.Fatalf("%s for %s: full %s, client %s", flag, c, res[0], res[1])
			}
			seen[res[0]] = true
		}
	}
	if len(seen) < 5 { // targets, segment includes/excludes, rule and split all took part
		t.Fatalf("only %d distinct results: the contexts do not exercise targets and segments: %v", len(seen), seen)
	}
}

func TestMetrics(t *testing.T) {
	e := start(t)
	h := newHost(t, e.keys.Server)
	if _, err := h.connect(e.srv.URL, false, nil); err != nil {
		t.Fatal(err)
	}
	v := changes(t, e.admin, 2, "m")
	if !h.waitVersion(v, 5*time.Second) {
		t.Fatal("no patches")
	}
	_, _, body := get(t, e.srv.URL+"/metrics", nil)
	for _, want := range []string{
		`vexil_stream_connections{env="test",kind="server"} 1`,
		"vexil_stream_patches_sent_total 2",
		"vexil_stream_propagation_seconds_count 2",
		"vexil_follow_entries_applied_total",
		"vexil_follow_rebuilds_total",
	} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
}

// A client-side flag's prerequisites travel with it, transitively and hashed like the rest, so
// the browser decides it as the server does (core/SNAPSHOT.md, "Browser-safe snapshots").
func TestClientSnapshotCarriesPrerequisites(t *testing.T) {
	e := start(t)
	if _, err := e.admin.CreateSegment(e.ctx, "test", &flagdoc.Segment{Key: "pilot", Included: []string{"pilot-user-9"}}); err != nil {
		t.Fatal(err)
	}
	root := boolFlag("payments-on") // server-only, depended on through "provider"
	root.Rules = []flagdoc.Rule{{ID: "pilot", Clauses: []flagdoc.Clause{{Op: "inSegment", Values: raws(`"pilot"`)}}, Variation: intp(1)}}
	mid := boolFlag("provider") // server-only
	mid.Fallthrough = &flagdoc.Serve{Variation: intp(1)}
	mid.Prerequisites = []flagdoc.Prerequisite{{Flag: "payments-on", Variations: []int{1}}}
	top := boolFlag("express-pay")
	top.ClientSide = true
	top.Fallthrough = &flagdoc.Serve{Variation: intp(1)}
	top.Prerequisites = []flagdoc.Prerequisite{{Flag: "provider", Variations: []int{1}}}
	other := boolFlag("unrelated-server-flag")
	for _, f := range []*flagdoc.Flag{root, mid, top, other} {
		if _, err := e.admin.CreateFlag(e.ctx, "test", f); err != nil {
			t.Fatal(err)
		}
	}
	url := e.srv.URL + "/sdk/v1/snapshot"
	_, _, full := get(t, url, bearer(e.keys.Server))
	_, _, cli := get(t, url, bearer(e.keys.Client))
	if bytes.Contains(cli, []byte("pilot-user-9")) || bytes.Contains(cli, []byte("unrelated-server-flag")) {
		t.Fatalf("client snapshot holds a raw key or an unneeded flag: %s", cli)
	}
	evFull, err := core.Load(full)
	if err != nil {
		t.Fatal(err)
	}
	evCli, err := core.Load(cli)
	if err != nil || len(evCli.Snapshot().Problems) != 0 {
		t.Fatalf("client snapshot: %v %v\n%s", err, evCli.Snapshot().Problems, cli)
	}
	for _, key := range []string{"pilot-user-9", "someone-else"} {
		var res [2]core.Result
		for i, ev := range []*core.Evaluator{evFull, evCli} {
			ctx := ev.NewContext()
			ctx.SetTargetingKey(key)
			res[i] = ev.EvaluateKey("express-pay", ctx)
		}
		if res[0].Variation != res[1].Variation || res[0].Reason() != res[1].Reason() {
			t.Fatalf("%s: full %+v, client %+v", key, res[0], res[1])
		}
		if want := key == "pilot-user-9"; (res[1].Variation == 1) != want {
			t.Fatalf("%s: client result %+v", key, res[1])
		}
	}
}
