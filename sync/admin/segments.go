package admin

import (
	"encoding/json"
	"net/http"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

func segmentSubject(key string) flagdoc.Subject {
	return flagdoc.Subject{Collection: store.Segments, Key: key}
}

func segmentResponse(st *store.State, key string) map[string]any {
	if doc := st.Raw(store.Segments, key); doc != nil {
		return map[string]any{"segment": json.RawMessage(doc)}
	}
	return map[string]any{"segment": nil}
}

func (a *api) listSegments(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.Store.Read(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	segs := []json.RawMessage{}
	for _, d := range st.Docs(store.Segments) {
		segs = append(segs, d.JSON)
	}
	setETag(w, st.Version)
	writeJSON(w, http.StatusOK, map[string]any{"version": st.Version, "segments": segs})
}

func (a *api) getSegment(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	st, err := a.Store.ReadKey(r.Context(), r.PathValue("env"), key, store.Segments)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !st.Has(store.Segments, key) {
		a.fail(w, r, notFound("segment", key))
		return
	}
	body := segmentResponse(st, key)
	body["version"] = st.Version
	setETag(w, st.Version)
	writeJSON(w, http.StatusOK, body)
}

func (a *api) createSegment(w http.ResponseWriter, r *http.Request) {
	var s flagdoc.Segment
	if err := a.decodeDoc(w, r, &s, &s.Key, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "segment.create", segmentSubject(s.Key), func(st *store.State) error {
		if st.Has(store.Segments, s.Key) {
			return &wrapped{msg: "segment " + quote(s.Key) + " already exists", err: store.ErrExists}
		}
		st.Put(store.Segments, s.Key, &s)
		return nil
	}, func(st *store.State) map[string]any { return segmentResponse(st, s.Key) })
}

func (a *api) putSegment(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var s flagdoc.Segment
	if err := a.decodeDoc(w, r, &s, &s.Key, key); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "segment.update", segmentSubject(key), func(st *store.State) error {
		if !st.Has(store.Segments, key) {
			return notFound("segment", key)
		}
		st.Put(store.Segments, key, &s)
		return nil
	}, func(st *store.State) map[string]any { return segmentResponse(st, key) })
}

// deleteSegment removes a segment; refused (naming the flags) while a flag uses it.
func (a *api) deleteSegment(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	a.apply(w, r, "segment.delete", segmentSubject(key), func(st *store.State) error {
		if !st.Has(store.Segments, key) {
			return notFound("segment", key)
		}
		st.Delete(store.Segments, key)
		return nil
	}, nil)
}

type membersBody struct {
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
	List   string   `json:"list,omitempty"` // included (default) or excluded
}

func (a *api) segmentMembers(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var b membersBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if len(b.Add) == 0 && len(b.Remove) == 0 {
		a.fail(w, r, flagdoc.Errorf("add", "give users to add or remove"))
		return
	}
	a.apply(w, r, "segment.members", segmentSubject(key), func(st *store.State) error {
		var s flagdoc.Segment
		if !st.Get(store.Segments, key, &s) {
			return notFound("segment", key)
		}
		if len(b.Add) > 0 {
			if err := s.AddMembers(b.List, b.Add); err != nil {
				return prefix(err, "add")
			}
		}
		if len(b.Remove) > 0 {
			if err := s.RemoveMembers(b.List, b.Remove); err != nil {
				return prefix(err, "remove")
			}
		}
		st.Put(store.Segments, key, &s)
		return nil
	}, func(st *store.State) map[string]any { return segmentResponse(st, key) })
}

// prefix renames a verb's "users" field errors to the body field they came from.
func prefix(err error, field string) error {
	if fe, ok := err.(*flagdoc.Error); ok {
		for i := range fe.Fields {
			if len(fe.Fields[i].Field) >= 5 && fe.Fields[i].Field[:5] == "users" {
				fe.Fields[i].Field = field + fe.Fields[i].Field[5:]
			}
		}
	}
	return err
}
