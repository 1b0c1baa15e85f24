package admin

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

// audit serves the change log: ?flag=, ?segment=, ?actor=, ?since= and ?until= (RFC 3339),
// ?after= (an entry id), ?limit= (1–1000), ?order=newest|oldest (default newest).
func (a *api) audit(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "flag", "segment", "actor", "since", "until", "after", "limit", "order")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sq := store.Query{Flag: q["flag"], Segment: q["segment"], Actor: q["actor"], After: q["after"], Newest: true, Limit: 100}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &sq.Since}, {"until", &sq.Until}} {
		if s := q[p.name]; s != "" {
			if *p.t, err = time.Parse(time.RFC3339, s); err != nil {
				a.fail(w, r, flagdoc.Errorf(p.name, "want an RFC 3339 time such as 2026-11-23T12:00:00Z, got %q", s))
				return
			}
		}
	}
	if s := q["limit"]; s != "" {
		if sq.Limit, err = strconv.Atoi(s); err != nil || sq.Limit < 1 || sq.Limit > 1000 {
			a.fail(w, r, flagdoc.Errorf("limit", "want an integer from 1 to 1000, got %q", s))
			return
		}
	}
	switch q["order"] {
	case "", "newest":
	case "oldest":
		sq.Newest = false
	default:
		a.fail(w, r, flagdoc.Errorf("order", "want newest or oldest, got %q", q["order"]))
		return
	}
	if sq.After != "" && !validID(sq.After) {
		a.fail(w, r, flagdoc.Errorf("after", "want a change id such as 1764000000000-0, got %q", sq.After))
		return
	}
	entries, err := a.Store.Changes(r.Context(), r.PathValue("env"), sq)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func validID(id string) bool {
	ms, seq, ok := bytes.Cut([]byte(id), []byte("-"))
	_, err1 := strconv.ParseUint(string(ms), 10, 64)
	_, err2 := strconv.ParseUint(string(seq), 10, 64)
	return ok && err1 == nil && err2 == nil
}

// explainBody asks why a context gets a flag's value (or every flag's, without flag).
type explainBody struct {
	Flag    string          `json:"flag,omitempty"`
	Context json.RawMessage `json:"context"`
	Now     json.RawMessage `json:"now,omitempty"`    // epoch ms or RFC 3339; default the clock
	Random  *uint32         `json:"random,omitempty"` // for percentage-of-time gates; default drawn
}

func (a *api) explain(w http.ResponseWriter, r *http.Request) {
	var b explainBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.Store.Read(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ev, err := core.Load(st.Snapshot(st.Version))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	i := -1
	if b.Flag != "" {
		if i = ev.FlagIndex(b.Flag); i < 0 {
			a.fail(w, r, notFound("flag", b.Flag))
			return
		}
	}
	ctx := ev.NewContext()
	if b.Context == nil {
		b.Context = json.RawMessage("{}")
	}
	if err := ctx.SetJSON(b.Context); err != nil {
		field, msg := "context", err.Error()
		if ce, ok := err.(*core.ContextError); ok {
			field, msg = ce.Field, ce.Message
		}
		a.fail(w, r, flagdoc.Errorf(field, "%s", msg))
		return
	}
	if ctx.Now, err = parseNow(b.Now, a.Now()); err != nil {
		a.fail(w, r, err)
		return
	}
	if b.Random != nil {
		ctx.Random = *b.Random
	} else {
		var rb [4]byte
		_, _ = rand.Read(rb[:])
		ctx.Random = binary.LittleEndian.Uint32(rb[:])
	}
	var out []byte
	if i >= 0 {
		out = ev.AppendExplanationJSON(nil, ev.Explain(i, ctx))
	} else {
		out = append(out, `{"version":`...)
		out = strconv.AppendUint(out, st.Version, 10)
		out = append(out, `,"results":[`...)
		for j := range ev.Snapshot().Flags {
			if j > 0 {
				out = append(out, ',')
			}
			out = ev.AppendExplanationJSON(out, ev.Explain(j, ctx))
		}
		out = append(out, "]}"...)
	}
	setETag(w, st.Version)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(out, '\n'))
}

func parseNow(raw json.RawMessage, clock time.Time) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return clock.UnixMilli(), nil
	}
	var ms int64
	if err := json.Unmarshal(raw, &ms); err == nil {
		return ms, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if t, ok := model.ParseTime(s); ok {
			return t, nil
		}
	}
	return 0, flagdoc.Errorf("now", "want epoch milliseconds or an RFC 3339 time, got %s", raw)
}
