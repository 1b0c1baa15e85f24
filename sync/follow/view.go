package follow

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

// View is one environment at one version: its flag and segment documents (compact JSON, the
// snapshot's array elements). A View never changes once published; its derived forms (the
// snapshot JSON, its gzip, a compiled evaluator, the browser-safe view) are made on first use,
// once, and shared by every reader.
type View struct {
	Env     string
	Version uint64
	// Flags and Segments map document key → document. Do not modify.
	Flags, Segments map[string][]byte
	// Salt hashes keys in the browser-safe view (store.ClientSalt).
	Salt string
	// Client tells a browser-safe view (made by Client) from a full one.
	Client bool
	// At is when the change that made this version was written (the change-log entry's time),
	// zero for a view read whole from Redis; propagation metrics count from it.
	At time.Time

	jsonOnce sync.Once
	json     []byte
	gzOnce   sync.Once
	gz       []byte
	evalOnce sync.Once
	eval     *core.Evaluator
	evalErr  error
	cliOnce  sync.Once
	cli      *View
}

// JSON returns the snapshot (core/SNAPSHOT.md), flags and segments sorted by key; a browser-safe
// view declares its hashedKeys salt. Do not modify the result.
func (v *View) JSON() []byte {
	v.jsonOnce.Do(func() {
		b := flagdoc.Assemble(v.Env, v.Version, docs(v.Flags), docs(v.Segments))
		if v.Client {
			salt, _ := json.Marshal(v.Salt)
			head := append(append([]byte(`{"hashedKeys":{"salt":`), salt...), "},"...)
			b = append(head, b[1:]...)
		}
		v.json = b
	})
	return v.json
}

// Gzip returns JSON gzip-compressed (compressed once per view).
func (v *View) Gzip() []byte {
	v.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(v.JSON())
		_ = zw.Close()
		v.gz = buf.Bytes()
	})
	return v.gz
}

// Evaluator returns the view compiled by the engine (once per view), for remote evaluation.
func (v *View) Evaluator() (*core.Evaluator, error) {
	v.evalOnce.Do(func() { v.eval, v.evalErr = core.Load(v.JSON()) })
	return v.eval, v.evalErr
}

// ClientView returns the browser-safe view of v: only client-side flags, only the segments
// their rules use, every target key and segment key list hashed with model.HashKey(v.Salt, key).
// Made once per view; a browser-safe view is its own.
func (v *View) ClientView() *View {
	if v.Client {
		return v
	}
	v.cliOnce.Do(func() { v.cli = clientView(v) })
	return v.cli
}

func docs(m map[string][]byte) []flagdoc.Doc {
	out := make([]flagdoc.Doc, 0, len(m))
	for k, d := range m {
		out = append(out, flagdoc.Doc{Key: k, JSON: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// clientView derives the browser-safe view. Stored documents passed flagdoc's strict decoding,
// so they decode into flagdoc's types without loss; one that does not (written to Redis by
// hand) is left out rather than sent half-converted.
func clientView(v *View) *View {
	c := &View{Env: v.Env, Version: v.Version, Salt: v.Salt, Client: true, At: v.At,
		Flags: map[string][]byte{}, Segments: map[string][]byte{}}
	// Client-side flags, and the flags they name as prerequisites, transitively: the engine
	// needs those to evaluate them (core/SNAPSHOT.md, "Browser-safe snapshots").
	include := map[string]*flagdoc.Flag{}
	var todo []*flagdoc.Flag
	for key, doc := range v.Flags {
		f := new(flagdoc.Flag)
		if json.Unmarshal(doc, f) == nil && f.ClientSide {
			include[key] = f
			todo = append(todo, f)
		}
	}
	for len(todo) > 0 {
		f := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, p := range f.Prerequisites {
			doc, ok := v.Flags[p.Flag]
			if !ok || include[p.Flag] != nil {
				continue
			}
			pf := new(flagdoc.Flag)
			if json.Unmarshal(doc, pf) == nil {
				include[p.Flag] = pf
				todo = append(todo, pf)
			}
		}
	}
	used := map[string]bool{}
	for key, f := range include {
		for i := range f.Targets {
			f.Targets[i].Values = hashAll(v.Salt, f.Targets[i].Values)
		}
		for _, r := range f.Rules {
			for _, cl := range r.Clauses {
				if cl.Op != "inSegment" && cl.Op != "notInSegment" {
					continue
				}
				for _, raw := range cl.Values {
					var s string
					if json.Unmarshal(raw, &s) == nil {
						used[s] = true
					}
				}
			}
		}
		c.Flags[key] = flagdoc.Marshal(f)
	}
	for key := range used {
		doc, ok := v.Segments[key]
		if !ok {
			continue
		}
		var s flagdoc.Segment
		if json.Unmarshal(doc, &s) != nil {
			continue
		}
		s.Included, s.Excluded = hashAll(v.Salt, s.Included), hashAll(v.Salt, s.Excluded)
		c.Segments[key] = flagdoc.Marshal(&s)
	}
	return c
}

func hashAll(salt string, keys []string) []string {
	if keys == nil {
		return nil
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = model.HashKey(salt, k)
	}
	return out
}

// fromState makes the view of a state read whole from Redis.
func fromState(st *store.State, salt string) *View {
	v := &View{Env: st.Env, Version: st.Version, Salt: salt,
		Flags: map[string][]byte{}, Segments: map[string][]byte{}}
	for _, d := range st.Docs(store.Flags) {
		v.Flags[d.Key] = d.JSON
	}
	for _, d := range st.Docs(store.Segments) {
		v.Segments[d.Key] = d.JSON
	}
	return v
}

// apply returns the view after one change-log entry (whose version follows v's).
func (v *View) apply(e *store.Entry, at time.Time) *View {
	n := &View{Env: v.Env, Version: e.Version, Salt: v.Salt, At: at,
		Flags: v.Flags, Segments: v.Segments}
	if after, ok := e.After[store.Flags]; ok {
		n.Flags = patched(v.Flags, after)
	}
	if after, ok := e.After[store.Segments]; ok {
		n.Segments = patched(v.Segments, after)
	}
	return n
}

// patched copies m with the documents of after set (null: removed). Views share unchanged maps,
// so a change copies only the collections it touches.
func patched(m map[string][]byte, after map[string]json.RawMessage) map[string][]byte {
	out := make(map[string][]byte, len(m)+len(after))
	for k, d := range m {
		out[k] = d
	}
	for k, d := range after {
		if len(d) == 0 || string(d) == "null" {
			delete(out, k)
		} else {
			out[k] = d
		}
	}
	return out
}
