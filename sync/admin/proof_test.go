package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// Every bad input class gets its documented 4xx, names the field, and leaves Redis as it was.
func TestBadInputChangesNothing(t *testing.T) {
	h := start(t)
	h.mustCreate(boolFlag("checkout", "web"))
	if _, err := h.c.CreateSegment(h.ctx, "test", &flagdoc.Segment{Key: "beta"}); err != nil {
		t.Fatal(err)
	}
	const flags = "/api/v1/environments/test/flags"
	good := `{"key":"k","enabled":true,"variations":[false,true],"fallthrough":{"variation":0}`
	huge := `{"key":"big","variations":[false,true],"fallthrough":{"variation":0},"description":"` + strings.Repeat("x", maxBody) + `"}`
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		field                    string
	}{
		{"malformed JSON", "POST", flags, `{"key":"k",`, nil, 400, "body"},
		{"not an object", "POST", flags, `[1,2]`, nil, 400, ""},
		{"two values", "POST", flags, good + `}{}`, nil, 400, "body"},
		{"empty body", "POST", flags, ``, nil, 400, "body"},
		{"unknown field", "POST", flags, good + `,"enabeld":true}`, nil, 400, "enabeld"},
		{"unknown nested field", "POST", flags, good + `,"rules":[{"clauses":[{"attribute":"a","op":"in","values":["x"],"negated":true}],"variation":1}]}`, nil, 400, "rules[0].clauses[0].negated"},
		{"wrong type", "POST", flags, good + `,"tags":"web"}`, nil, 400, "tags"},
		{"wrong nested type", "POST", flags, good + `,"targets":[{"variation":"1","values":["u"]}]}`, nil, 400, "targets[0].variation"},
		{"bad operator", "POST", flags, good + `,"rules":[{"clauses":[{"attribute":"a","op":"betwen","values":[1]}],"variation":1}]}`, nil, 400, "rules[0].clauses[0].op"},
		{"bad variation index", "POST", flags, `{"key":"k","variations":[false,true],"fallthrough":{"variation":5}}`, nil, 400, "fallthrough.variation"},
		{"bad weights", "POST", flags, `{"key":"k","variations":[false,true],"fallthrough":{"rollout":{"variations":[{"variation":0,"weight":10}]}}}`, nil, 400, "fallthrough.rollout.variations"},
		{"unknown segment", "POST", flags, good + `,"rules":[{"clauses":[{"attribute":"k","op":"inSegment","values":["nope"]}],"variation":1}]}`, nil, 400, "rules[0].clauses[0].values[0]"},
		{"missing key", "POST", flags, `{"variations":[true],"fallthrough":{"variation":0}}`, nil, 400, "key"},
		{"key mismatch", "PUT", flags + "/checkout", `{"key":"other","variations":[true],"fallthrough":{"variation":0}}`, nil, 400, "key"},
		{"oversized body", "POST", flags, huge, nil, 413, "body"},
		{"duplicate create", "POST", flags, `{"key":"checkout","variations":[true],"fallthrough":{"variation":0}}`, nil, 409, ""},
		{"unknown flag", "PUT", flags + "/nope", `{"variations":[true],"fallthrough":{"variation":0}}`, nil, 404, ""},
		{"unknown flag verb", "POST", flags + "/nope/enable", ``, nil, 404, ""},
		{"unknown environment", "POST", "/api/v1/environments/nope/flags", good + `}`, nil, 404, ""},
		{"bad environment name", "POST", "/api/v1/environments", `{"key":"{x}"}`, nil, 400, "key"},
		{"unknown verb", "POST", flags + "/checkout/frobnicate", ``, nil, 404, "verb"},
		{"unknown method", "PATCH", flags + "/checkout", `{}`, nil, 405, ""},
		{"unknown endpoint", "GET", "/api/v1/flags", ``, nil, 404, ""},
		{"verb field of another verb", "POST", flags + "/checkout/enable", `{"percent":5}`, nil, 400, "percent"},
		{"bad token", "POST", flags + "/checkout/disable", ``, map[string]string{"Authorization": "Bearer wrong-token-0123456789"}, 401, ""},
		{"missing token", "POST", flags + "/checkout/disable", ``, map[string]string{"Authorization": ""}, 401, ""},
		{"token of the wrong scheme", "POST", flags + "/checkout/disable", ``, map[string]string{"Authorization": "Basic " + token}, 401, ""},
		{"bad If-Match", "POST", flags + "/checkout/disable", ``, map[string]string{"If-Match": `"abc"`}, 400, "If-Match"},
		{"stale If-Match", "POST", flags + "/checkout/disable", ``, map[string]string{"If-Match": `"1"`}, 412, "If-Match"},
		{"unknown query parameter", "GET", flags + "?tga=web", ``, nil, 400, "tga"},
		{"bad query value", "GET", flags + "?archived=maybe", ``, nil, 400, "archived"},
		{"bad audit time", "GET", "/api/v1/environments/test/audit?since=yesterday", ``, nil, 400, "since"},
		{"segment in use", "DELETE", "/api/v1/environments/test/segments/beta", ``, nil, 0, ""}, // replaced below
		{"bad members list", "POST", "/api/v1/environments/test/segments/beta/members", `{"add":["u"],"list":"maybe"}`, nil, 400, "list"},
		{"kill without selector", "POST", "/api/v1/environments/test/kill", `{}`, nil, 400, "tag"},
		{"kill matching nothing", "POST", "/api/v1/environments/test/kill", `{"tag":"none"}`, nil, 404, ""},
		{"explain bad context", "POST", "/api/v1/environments/test/explain", `{"flag":"checkout","context":{"plan":{"a":1}}}`, nil, 400, "context.plan"},
		{"rotate unknown kind", "POST", "/api/v1/environments/test/keys/admin/rotate", ``, nil, 404, "kind"},
	}
	// Make the segment used, so deleting it is refused naming the user.
	user := boolFlag("uses-beta")
	user.Rules = []flagdoc.Rule{{Clauses: []flagdoc.Clause{{Attribute: "k", Op: "inSegment", Values: raws(`"beta"`)}}, Variation: intp(1)}}
	h.mustCreate(user)
	for i := range cases {
		if cases[i].name == "segment in use" {
			cases[i].status, cases[i].field = 400, `flags["uses-beta"].rules[0].clauses[0].values[0]`
		}
	}

	before := h.fingerprint()
	for _, c := range cases {
		st, body := h.raw(c.method, c.path, c.body, c.header)
		if st != c.status || body.field() != c.field || body.Code == "" || body.Message == "" {
			t.Errorf("%s: status %d field %q, want %d %q; body %s", c.name, st, body.field(), c.status, c.field, body.raw)
		}
	}
	if after := h.fingerprint(); after != before {
		t.Fatalf("bad input changed Redis:\nbefore %s\nafter  %s", before, after)
	}
}

// 8 writers do read-modify-write with If-Match until 2,000 changes are acknowledged: the
// final state and version equal what was acknowledged, and the change log holds exactly one
// entry per acknowledged change, in order.
func TestConcurrentWritersWithIfMatch(t *testing.T) {
	h := start(t)
	counter := boolFlag("counter")
	counter.Description = "0"
	base := h.mustCreate(counter).Version
	const writers, total = 8, 2000
	var mu sync.Mutex
	acked := map[int]bool{} // counter values acknowledged
	ackedVersions := map[uint64]int{}
	var wg sync.WaitGroup
	remaining := total
	var failures []error
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client.New(h.srv.URL, token)
			for {
				mu.Lock()
				if remaining <= 0 || len(failures) > 0 {
					mu.Unlock()
					return
				}
				mu.Unlock()
				fs, err := c.Flag(h.ctx, "test", "counter")
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					return
				}
				n, _ := strconv.Atoi(fs.Flag.Description)
				fs.Flag.Description = strconv.Itoa(n + 1)
				version := fs.Version
				res, err := c.UpdateFlag(h.ctx, "test", fs.Flag, &version)
				mu.Lock()
				switch {
				case status(err) == http.StatusPreconditionFailed:
				case err != nil:
					failures = append(failures, err)
				default: // may pass total by up to writers-1: each acknowledged change counts
					if acked[n+1] || res.Version != version+1 {
						failures = append(failures, fmt.Errorf("value %d acked twice or version %d after %d", n+1, res.Version, version))
					}
					acked[n+1] = true
					ackedVersions[res.Version] = n + 1
					remaining--
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(failures[0])
	}
	n := len(acked)
	if n < total {
		t.Fatalf("%d changes acknowledged, want at least %d", n, total)
	}
	fs, err := h.c.Flag(h.ctx, "test", "counter")
	if err != nil || fs.Flag.Description != strconv.Itoa(n) || fs.Version != base+uint64(n) {
		t.Fatalf("final: description %q version %d, want %d and %d (%v)", fs.Flag.Description, fs.Version, n, base+uint64(n), err)
	}
	entries, err := allChanges(h, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Fatalf("%d change-log entries after version %d, want %d", len(entries), base, n)
	}
	for i, e := range entries {
		var after flagdoc.Flag
		if err := json.Unmarshal(e.After["flags"]["counter"], &after); err != nil {
			t.Fatal(err)
		}
		want := i + 1
		if e.Version != base+uint64(want) || after.Description != strconv.Itoa(want) || ackedVersions[e.Version] != want {
			t.Fatalf("entry %d: version %d description %q, want version %d description %d", i, e.Version, after.Description, base+uint64(want), want)
		}
		if i > 0 && e.ID <= entries[i-1].ID && len(e.ID) == len(entries[i-1].ID) {
			t.Fatalf("entry ids out of order: %s after %s", e.ID, entries[i-1].ID)
		}
	}
}

// A kill switch over 500 flags is one version step and one change-log entry.
func TestKillSwitch500Flags(t *testing.T) {
	h := start(t)
	var snap struct {
		Flags []*flagdoc.Flag `json:"flags"`
	}
	for i := 0; i < 500; i++ {
		snap.Flags = append(snap.Flags, boolFlag(fmt.Sprintf("svc-%03d", i), "payments"))
	}
	snap.Flags = append(snap.Flags, boolFlag("other", "web"))
	data, _ := json.Marshal(snap)
	imp, err := h.c.Import(h.ctx, "test", data)
	if err != nil || imp.Flags != 501 {
		t.Fatalf("import: %+v %v", imp, err)
	}
	res, err := h.c.Kill(h.ctx, "test", "payments", "")
	if err != nil || len(res.Flags) != 500 || res.Version != imp.Version+1 {
		t.Fatalf("kill: %d flags, version %d (import %d): %v", len(res.Flags), res.Version, imp.Version, err)
	}
	entries, err := h.c.Audit(h.ctx, "test", client.AuditQuery{Limit: 1000, Oldest: true})
	if err != nil || len(entries) != 2 || entries[1].Action != "flag.kill" || entries[1].Version != res.Version {
		t.Fatalf("audit: %d entries %v", len(entries), err)
	}
	if len(entries[1].Before["flags"]) != 500 || len(entries[1].After["flags"]) != 500 {
		t.Fatalf("kill entry covers %d/%d flags", len(entries[1].Before["flags"]), len(entries[1].After["flags"]))
	}
	flags, _, _ := h.c.Flags(h.ctx, "test", client.FlagFilter{})
	for _, f := range flags {
		if f.Enabled != (f.Key == "other") {
			t.Fatalf("%s enabled=%v after the kill", f.Key, f.Enabled)
		}
	}
	// By prefix, and a second kill of the same flags changes nothing.
	if res, err := h.c.Kill(h.ctx, "test", "", "oth"); err != nil || len(res.Flags) != 1 || res.Version != imp.Version+2 {
		t.Fatalf("kill by prefix: %+v %v", res, err)
	}
	if res, err := h.c.Kill(h.ctx, "test", "payments", ""); err != nil || res.Version != imp.Version+2 {
		t.Fatalf("repeated kill must not step the version: %+v %v", res, err)
	}
}

// Redis is killed (SIGKILL) and restarted between writes: with AOF on, nothing acknowledged
// is lost, and the daemon reports not ready while Redis is down.
func TestRedisRestartLosesNothing(t *testing.T) {
	h := start(t)
	for i := 0; i < 20; i++ {
		h.mustCreate(boolFlag(fmt.Sprintf("f%02d", i)))
		if i%10 == 9 {
			h.redis.Kill()
			if _, err := h.c.CreateFlag(h.ctx, "test", boolFlag("while-down")); err == nil {
				t.Fatal("a write succeeded while Redis was down")
			}
			if st, _ := h.raw("GET", "/readyz", "", nil); st != http.StatusServiceUnavailable {
				t.Fatalf("readyz with Redis down: %d", st)
			}
			h.redis.Restart()
			// The client's pool redials in the background after failed dials: ready within seconds.
			deadline := time.Now().Add(10 * time.Second)
			for st, _ := h.raw("GET", "/readyz", "", nil); st != http.StatusOK; st, _ = h.raw("GET", "/readyz", "", nil) {
				if time.Now().After(deadline) {
					t.Fatalf("readyz 10s after restart: %d", st)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	flags, version, err := h.c.Flags(h.ctx, "test", client.FlagFilter{})
	if err != nil || len(flags) != 20 || version != 20 {
		t.Fatalf("after restarts: %d flags at version %d: %v", len(flags), version, err)
	}
	entries, err := h.c.Audit(h.ctx, "test", client.AuditQuery{Limit: 100})
	if err != nil || len(entries) != 20 {
		t.Fatalf("change log after restarts: %d entries: %v", len(entries), err)
	}
}
