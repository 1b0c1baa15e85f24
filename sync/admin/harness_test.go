package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/daemon"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

const token = "test-admin-token-0123456789"

// maxBody is the harness daemon's body bound, small so the oversized case is cheap.
const maxBody = 64 << 10

type harness struct {
	t     testing.TB
	redis *redistest.Server
	srv   *httptest.Server
	c     *client.Client
	store *store.Store
	ctx   context.Context
}

// start runs a real redis-server and a real daemon over HTTP, with an environment "test".
func start(t testing.TB) *harness { return startWith(t, redistest.Start(t)) }

func startWith(t testing.TB, r *redistest.Server) *harness {
	t.Helper()
	d, err := daemon.New(daemon.Config{RedisURL: r.URL() + "?dial_timeout=1s&max_retries=1", Listen: "127.0.0.1:0", AdminTokens: "ci=" + token, MaxBody: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = d.Store().Close() })
	h := &harness{t: t, redis: r, srv: srv, c: client.New(srv.URL, token), store: d.Store(), ctx: context.Background()}
	h.c.Actor = "tester"
	if _, _, err := h.c.CreateEnvironment(h.ctx, "test", "tests"); err != nil {
		t.Fatal(err)
	}
	return h
}

// raw sends a request as given and returns the status and the decoded error body.
func (h *harness) raw(method, path, body string, header map[string]string) (int, errorBody) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e errorBody
	_ = json.Unmarshal(data, &e)
	e.raw = string(data)
	return resp.StatusCode, e
}

type errorBody struct {
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  []flagdoc.FieldError `json:"fields"`
	raw     string
}

func (e errorBody) field() string {
	if len(e.Fields) == 0 {
		return ""
	}
	return e.Fields[0].Field
}

// fingerprint renders every key in Redis with its content, to show that nothing changed.
func (h *harness) fingerprint() string {
	h.t.Helper()
	rdb, ctx := h.store.Client(), h.ctx
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		h.t.Fatal(err)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		typ := rdb.Type(ctx, k).Val()
		var v any
		switch typ {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "set":
			m := rdb.SMembers(ctx, k).Val()
			sort.Strings(m)
			v = m
		case "stream":
			v = rdb.XRange(ctx, k, "-", "+").Val()
		}
		fmt.Fprintf(&b, "%s %s %v\n", k, typ, v)
	}
	return b.String()
}

// status returns the HTTP status of an API error (0 for none, -1 for a non-API error).
func status(err error) int {
	var e *client.Error
	if err == nil {
		return 0
	}
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

func field(err error) string {
	var e *client.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		return e.Fields[0].Field
	}
	return ""
}

func intp(i int) *int           { return &i }
func floatp(f float64) *float64 { return &f }
func raws(vs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(v)
	}
	return out
}

// boolFlag is an enabled boolean flag serving false, with tags.
func boolFlag(key string, tags ...string) *flagdoc.Flag {
	return &flagdoc.Flag{Key: key, Tags: tags, Enabled: true, Variations: raws("false", "true"),
		OffVariation: intp(0), Fallthrough: &flagdoc.Serve{Variation: intp(0)}}
}

func (h *harness) mustCreate(f *flagdoc.Flag) client.FlagState {
	h.t.Helper()
	fs, err := h.c.CreateFlag(h.ctx, "test", f)
	if err != nil {
		h.t.Fatalf("create %s: %v", f.Key, err)
	}
	return fs
}

func (h *harness) version() uint64 {
	h.t.Helper()
	env, err := h.c.Environment(h.ctx, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return env.Version
}
