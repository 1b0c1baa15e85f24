package sdkapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
	"github.com/vexil-flags/vexil/sync/store"
)

func post(t *testing.T, url, key, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// ofrepAnswer is an OFREP evaluation (success or error).
type ofrepAnswer struct {
	Key          string          `json:"key"`
	Value        json.RawMessage `json:"value"`
	Variant      *string         `json:"variant"`
	Reason       string          `json:"reason"`
	ErrorCode    string          `json:"errorCode"`
	ErrorDetails string          `json:"errorDetails"`
	Metadata     struct {
		RuleID       string `json:"ruleId"`
		InExperiment bool   `json:"inExperiment"`
		Version      uint64 `json:"version"`
	} `json:"metadata"`
}

// render turns an OFREP answer into the vectors' result form.
func (a *ofrepAnswer) render(c *vectors.Case) []byte {
	r := vectors.Result{Value: a.Value, Variation: -1, Reason: a.Reason, RuleID: a.Metadata.RuleID,
		ErrorCode: a.ErrorCode, InExperiment: a.Metadata.InExperiment}
	if a.Variant != nil {
		r.Variation, _ = strconv.Atoi(*a.Variant)
	} else {
		r.Value = json.RawMessage(c.DefaultJSON())
	}
	if a.ErrorCode == "FLAG_NOT_FOUND" {
		r.Reason = "ERROR" // OFREP's 404 carries no reason
	}
	b, _ := json.Marshal(r)
	return b
}

// clockFree reports whether a case's expected result holds whatever the clock and the dice,
// so the daemon (which uses its own) must give it.
func clockFree(ev *core.Evaluator, c *vectors.Case) bool {
	if c.Type != "" && c.Type != "any" {
		return false // OFREP evaluations are untyped
	}
	for _, random := range []uint32{0, math.MaxUint32 / 2, math.MaxUint32} {
		ctx := ev.NewContext()
		if ctx.SetJSON(c.ContextJSON()) != nil {
			return false
		}
		ctx.Now, ctx.Random = time.Now().UnixMilli(), random
		r := ev.EvaluateKey(c.Flag, ctx)
		if vectors.Check(c, ev.AppendJSON(nil, c.Flag, r, c.DefaultJSON())) != "" {
			return false
		}
	}
	return true
}

func TestOFREPMatchesGoldenVectors(t *testing.T) {
	e := start(t)
	file, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	checked, bulkChecked := 0, 0
	for si, suite := range file.Suites {
		if len(suite.Problems) > 0 || bytes.Contains(suite.Snapshot, []byte(`"hashedKeys"`)) {
			continue // the daemon stores only valid environments and hashes keys itself
		}
		ev, err := core.Load(suite.Snapshot)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("v%d", si)
		_, keys, err := e.admin.CreateEnvironment(e.ctx, name, suite.Name)
		if err != nil {
			t.Fatal(err)
		}
		// Written through the store, not the admin import: the vectors carry unknown fields on
		// purpose (hosts must ignore them), which the admin API's strict decoding refuses.
		if err := seed(e, name, suite.Snapshot); err != nil {
			t.Fatalf("suite %q: %v", suite.Name, err)
		}
		bulkByContext := map[string]map[string]*ofrepAnswer{}
		for ci := range suite.Cases {
			c := &suite.Cases[ci]
			if !clockFree(ev, c) {
				continue
			}
			body := `{"context":` + string(c.ContextJSON()) + `}`
			code, _, resp := post(t, e.srv.URL+"/ofrep/v1/evaluate/flags/"+c.Flag, keys.Server, body, nil)
			var a ofrepAnswer
			if err := json.Unmarshal(resp, &a); err != nil {
				t.Fatalf("%s/%s: %d %s", suite.Name, c.Name, code, resp)
			}
			wantCode := 200
			if c.Expect.ErrorCode == "FLAG_NOT_FOUND" {
				wantCode = 404
			}
			if code != wantCode || a.Key != c.Flag {
				t.Fatalf("%s/%s: status %d key %q, want %d %q: %s", suite.Name, c.Name, code, a.Key, wantCode, c.Flag, resp)
			}
			if d := vectors.Check(c, a.render(c)); d != "" {
				t.Fatalf("%s/%s: %s\n%s", suite.Name, c.Name, d, resp)
			}
			checked++

			// The bulk answer holds the same result for every flag of the snapshot.
			ctxKey := string(c.ContextJSON())
			if bulkByContext[ctxKey] == nil {
				code, h, resp := post(t, e.srv.URL+"/ofrep/v1/evaluate/flags", keys.Server, body, nil)
				var bulk struct {
					Flags []*ofrepAnswer `json:"flags"`
				}
				if code != 200 || json.Unmarshal(resp, &bulk) != nil || h.Get("ETag") != `"1"` {
					t.Fatalf("bulk: %d %v %s", code, h, resp)
				}
				m := map[string]*ofrepAnswer{}
				for _, f := range bulk.Flags {
					m[f.Key] = f
				}
				if len(m) != len(ev.Snapshot().Flags) {
					t.Fatalf("bulk: %d flags, snapshot has %d", len(m), len(ev.Snapshot().Flags))
				}
				bulkByContext[ctxKey] = m
			}
			if b, ok := bulkByContext[ctxKey][c.Flag]; ok {
				if d := vectors.Check(c, b.render(c)); d != "" {
					t.Fatalf("bulk %s/%s: %s", suite.Name, c.Name, d)
				}
				bulkChecked++
			}
		}
	}
	if checked < 300 || bulkChecked < 250 {
		t.Fatalf("only %d single and %d bulk cases checked", checked, bulkChecked)
	}
	t.Logf("%d cases checked through OFREP (%d also in bulk answers)", checked, bulkChecked)
}

func TestOFREPErrorsAndETag(t *testing.T) {
	e := start(t)
	clientSetup(t, e)
	base := e.srv.URL + "/ofrep/v1/evaluate/flags"
	code, _, body := post(t, base+"/client-banner", e.keys.Server, `{"context":{"targetingKey":"target-bob@example.com"}}`, nil)
	if code != 200 || !strings.Contains(string(body), `"value":"blue","variant":"0","reason":"TARGETING_MATCH"`) {
		t.Fatalf("single: %d %s", code, body)
	}
	// Client keys evaluate on the browser-safe snapshot: hashed targets still match.
	code, h, body := post(t, base+"/client-banner", e.keys.Client, `{"context":{"targetingKey":"target-bob@example.com"}}`, nil)
	if code != 200 || !strings.Contains(string(body), `"value":"blue"`) || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("client key: %d %s", code, body)
	}
	if code, _, body := post(t, base+"/server-only-secret-flag", e.keys.Client, `{}`, nil); code != 404 ||
		!strings.Contains(string(body), `"errorCode":"FLAG_NOT_FOUND"`) {
		t.Fatalf("server-only flag with a client key: %d %s", code, body)
	}
	for body, want := range map[string]string{
		`{"context":{"targetingKey":5}}`:                    `"errorCode":"INVALID_CONTEXT","errorDetails":"context.targetingKey: must be a string"`,
		`{"context":{"tags":[{"a":1}]}}`:                    `"errorCode":"INVALID_CONTEXT"`,
		`{"context":`:                                       `"errorCode":"PARSE_ERROR"`,
		`{"context":` + strings.Repeat(" ", 70<<10) + `{}}`: `"errorCode":"PARSE_ERROR","errorDetails":"body: larger than`,
	} {
		code, _, resp := post(t, base+"/client-banner", e.keys.Server, body, nil)
		if code != 400 || !strings.Contains(string(resp), want) {
			t.Fatalf("body %.40q: %d %s, want 400 with %s", body, code, resp, want)
		}
	}
	if code, _, _ := post(t, base+"/client-banner", "vx_server_nope", `{}`, nil); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	code, h, body = post(t, base, e.keys.Server, `{"context":{"targetingKey":"x"}}`, nil)
	etag := h.Get("ETag")
	if code != 200 || etag == "" || strings.Count(string(body), `"key":`) != 3 {
		t.Fatalf("bulk: %d %q %s", code, etag, body)
	}
	if code, _, body := post(t, base, e.keys.Server, `{"context":{"targetingKey":"x"}}`, map[string]string{"If-None-Match": etag}); code != 304 || len(body) != 0 {
		t.Fatalf("bulk with a current ETag: %d %s", code, body)
	}
	code, _, body = post(t, base, e.keys.Client, `{}`, nil)
	if code != 200 || strings.Contains(string(body), "server-only") || strings.Count(string(body), `"key":`) != 2 {
		t.Fatalf("bulk with a client key: %d %s", code, body)
	}
}

// seed writes a snapshot's flags and segments as they are, in one change.
func seed(e *env, name string, snapshot []byte) error {
	var s struct {
		Flags, Segments []json.RawMessage
	}
	if err := json.Unmarshal(snapshot, &s); err != nil {
		return err
	}
	_, err := e.d.Store().Apply(e.ctx, store.Change{Env: name, Actor: "test", Action: "test.seed",
		Mutate: func(st *store.State) error {
			for coll, docs := range map[string][]json.RawMessage{store.Flags: s.Flags, store.Segments: s.Segments} {
				for _, d := range docs {
					var k struct{ Key string }
					if err := json.Unmarshal(d, &k); err != nil {
						return err
					}
					st.Put(coll, k.Key, d)
				}
			}
			return nil
		}})
	return err
}
