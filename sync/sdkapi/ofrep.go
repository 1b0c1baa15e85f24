package sdkapi

import (
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/vexil-flags/vexil/core"
)

// OFREP: https://openfeature.dev/docs/reference/other-technologies/ofrep/ — the request body is
// {"context": {...}} with the context in OpenFeature's flat shape (core.Context.SetJSON).

// prepare reads the body and builds the evaluation context; on failure it has answered 400
// with the OFREP error shape (key empty for bulk requests).
func prepare(w http.ResponseWriter, r *http.Request, ev *core.Evaluator, key string, bulk bool) (*core.Context, bool) {
	fail := func(code, detail string) (*core.Context, bool) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		m := map[string]string{"errorCode": code, "errorDetails": detail}
		if !bulk {
			m["key"] = key
		}
		_ = json.NewEncoder(w).Encode(m)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fail("PARSE_ERROR", "body: larger than "+strconv.Itoa(MaxBody)+" bytes")
	}
	if err != nil {
		return fail("PARSE_ERROR", "body: "+err.Error())
	}
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return fail("PARSE_ERROR", "body: malformed JSON: "+err.Error())
		}
	}
	ctx := ev.NewContext()
	if len(req.Context) > 0 && string(req.Context) != "null" {
		if err := ctx.SetJSON(req.Context); err != nil {
			return fail("INVALID_CONTEXT", err.Error())
		}
	}
	ctx.Now = time.Now().UnixMilli()
	ctx.Random = rand.Uint32()
	return ctx, true
}

// appendResult renders one evaluation in OFREP's shape (success, or an error entry).
func appendResult(b []byte, ev *core.Evaluator, key string, r core.Result, version uint64) []byte {
	b = append(b, `{"key":`...)
	b = core.AppendJSONString(b, key)
	if r.Variation >= 0 {
		b = append(b, `,"value":`...)
		b = append(b, ev.Value(r, "null")...)
		b = append(b, `,"variant":"`...)
		b = strconv.AppendInt(b, int64(r.Variation), 10)
		b = append(b, '"')
	}
	b = append(b, `,"reason":"`...)
	b = append(b, r.Reason().String()...)
	b = append(b, '"')
	if code := r.ErrorCode(); code != core.ErrorNone {
		b = append(b, `,"errorCode":"`...)
		b = append(b, code.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"metadata":{"version":`...)
	b = strconv.AppendUint(b, version, 10)
	if id := ev.RuleID(r); id != "" {
		b = append(b, `,"ruleId":`...)
		b = core.AppendJSONString(b, id)
	}
	if r.InExperiment() {
		b = append(b, `,"inExperiment":true`...)
	}
	return append(b, "}}"...)
}

func (a *api) evaluator(w http.ResponseWriter, q *request) (*core.Evaluator, bool) {
	ev, err := q.view.Evaluator()
	if err != nil {
		// Every stored environment passed the engine's validation; this is a daemon bug.
		a.Log.Error("sdkapi: snapshot does not load", "env", q.env, "version", q.view.Version, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "snapshot does not load")
		return nil, false
	}
	return ev, true
}

func (a *api) evaluateFlag(w http.ResponseWriter, r *http.Request, q *request) {
	ev, ok := a.evaluator(w, q)
	if !ok {
		return
	}
	key := r.PathValue("key")
	ctx, ok := prepare(w, r, ev, key, false)
	if !ok {
		return
	}
	i := ev.FlagIndex(key)
	w.Header().Set("Content-Type", "application/json")
	if i < 0 {
		w.WriteHeader(http.StatusNotFound)
		b := append([]byte(`{"key":`), strconv.Quote(key)...)
		_, _ = w.Write(append(b, `,"errorCode":"FLAG_NOT_FOUND","errorDetails":"no flag with this key"}`+"\n"...))
		return
	}
	_, _ = w.Write(append(appendResult(nil, ev, key, ev.Evaluate(i, ctx), q.view.Version), '\n'))
}

func (a *api) evaluateFlags(w http.ResponseWriter, r *http.Request, q *request) {
	w.Header().Set("ETag", etag(q.view.Version))
	if notModified(r, q.view.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ev, ok := a.evaluator(w, q)
	if !ok {
		return
	}
	ctx, ok := prepare(w, r, ev, "", true)
	if !ok {
		return
	}
	flags := ev.Snapshot().Flags
	order := make([]int, len(flags))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(x, y int) bool { return flags[order[x]].Key < flags[order[y]].Key })
	b := append(make([]byte, 0, 128*len(flags)+16), `{"flags":[`...)
	for n, i := range order {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendResult(b, ev, flags[i].Key, ev.Evaluate(i, ctx), q.view.Version)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, "]}\n"...))
}
