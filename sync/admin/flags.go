package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

var flagTypes = []string{"release", "experiment", "ops", "permission", "kill-switch"}

func (a *api) stamp() string { return a.Now().UTC().Format(time.RFC3339) }

// putFlagDoc stores f in coll, stamping updatedAt — unless nothing but the stamp would change,
// so that a no-op verb (enable an enabled flag) stays a no-op.
func (a *api) putFlagDoc(st *store.State, coll string, f *flagdoc.Flag) {
	if old := st.Raw(coll, f.Key); old != nil {
		var prev flagdoc.Flag
		st.Get(coll, f.Key, &prev)
		f.UpdatedAt = prev.UpdatedAt
		if string(flagdoc.Marshal(f)) == string(old) {
			return
		}
	}
	f.UpdatedAt = a.stamp()
	st.Put(coll, f.Key, f)
}

func flagSubject(key string) flagdoc.Subject {
	return flagdoc.Subject{Collection: store.Flags, Key: key}
}

// flagResponse renders a flag (active or archived) with its plan.
func flagResponse(st *store.State, key string) map[string]any {
	out := map[string]any{}
	coll := store.Flags
	if !st.Has(store.Flags, key) && st.Has(store.Archived, key) {
		coll = store.Archived
	}
	if doc := st.Raw(coll, key); doc != nil {
		out["flag"] = json.RawMessage(doc)
	} else {
		out["flag"] = nil
	}
	out["archived"] = coll == store.Archived
	if plan := st.Raw(store.Plans, key); plan != nil {
		out["plan"] = json.RawMessage(plan)
	}
	return out
}

func (a *api) listFlags(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "tag", "type", "prefix", "archived")
	if err == nil && q["type"] != "" && !slices.Contains(flagTypes, q["type"]) {
		err = flagdoc.Errorf("type", "want one of %s", strings.Join(flagTypes, ", "))
	}
	coll := store.Flags
	switch q["archived"] {
	case "", "false":
	case "true":
		coll = store.Archived
	default:
		if err == nil {
			err = flagdoc.Errorf("archived", "want true or false")
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st, err := a.Store.Read(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	flags := []json.RawMessage{}
	for _, key := range st.Keys(coll) {
		if !strings.HasPrefix(key, q["prefix"]) {
			continue
		}
		var f flagdoc.Flag
		if !st.Get(coll, key, &f) {
			continue
		}
		typ := f.Type
		if typ == "" {
			typ = "release"
		}
		if (q["tag"] != "" && !slices.Contains(f.Tags, q["tag"])) || (q["type"] != "" && typ != q["type"]) {
			continue
		}
		flags = append(flags, st.Raw(coll, key))
	}
	setETag(w, st.Version)
	writeJSON(w, http.StatusOK, map[string]any{"version": st.Version, "archived": coll == store.Archived, "flags": flags})
}

func (a *api) getFlag(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	st, err := a.Store.ReadKey(r.Context(), r.PathValue("env"), key, store.Flags, store.Archived, store.Plans)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !st.Has(store.Flags, key) && !st.Has(store.Archived, key) {
		a.fail(w, r, notFound("flag", key))
		return
	}
	body := flagResponse(st, key)
	body["version"] = st.Version
	setETag(w, st.Version)
	writeJSON(w, http.StatusOK, body)
}

func notFound(what, key string) error {
	return &wrapped{msg: what + " " + quote(key) + " not found", err: store.ErrNotFound}
}

type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func (a *api) createFlag(w http.ResponseWriter, r *http.Request) {
	var f flagdoc.Flag
	if err := a.decodeDoc(w, r, &f, &f.Key, ""); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "flag.create", flagSubject(f.Key), func(st *store.State) error {
		if st.Has(store.Flags, f.Key) || st.Has(store.Archived, f.Key) {
			return &wrapped{msg: "flag " + quote(f.Key) + " already exists", err: store.ErrExists}
		}
		f.UpdatedAt = a.stamp()
		if f.CreatedAt == "" {
			f.CreatedAt = f.UpdatedAt
		}
		st.Put(store.Flags, f.Key, &f)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, f.Key) })
}

// putFlag replaces a flag's document (active or archived). createdAt is kept when the body
// leaves it out; updatedAt is the daemon's.
func (a *api) putFlag(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var f flagdoc.Flag
	if err := a.decodeDoc(w, r, &f, &f.Key, key); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "flag.update", flagSubject(key), func(st *store.State) error {
		coll, old, err := loadFlag(st, key)
		if err != nil {
			return err
		}
		if f.CreatedAt == "" {
			f.CreatedAt = old.CreatedAt
		}
		next := f // Mutate may run again: leave f as decoded
		a.putFlagDoc(st, coll, &next)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, key) })
}

// loadFlag finds a flag, active or archived.
func loadFlag(st *store.State, key string) (string, *flagdoc.Flag, error) {
	var f flagdoc.Flag
	if st.Get(store.Flags, key, &f) {
		return store.Flags, &f, nil
	}
	if st.Get(store.Archived, key, &f) {
		return store.Archived, &f, nil
	}
	return "", nil, notFound("flag", key)
}

// loadActive finds a flag that is not archived: verbs that change serving need one.
func loadActive(st *store.State, key string) (*flagdoc.Flag, error) {
	coll, f, err := loadFlag(st, key)
	if err == nil && coll == store.Archived {
		return nil, &wrapped{msg: "flag " + quote(key) + " is archived: unarchive it first", err: store.ErrExists}
	}
	return f, err
}

func (a *api) deleteFlag(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	a.apply(w, r, "flag.delete", flagSubject(key), func(st *store.State) error {
		coll, _, err := loadFlag(st, key)
		if err != nil {
			return err
		}
		st.Delete(coll, key)
		st.Delete(store.Plans, key)
		return nil
	}, nil)
}

// verbBody is the union of the verbs' bodies; each verb says which fields it reads, and a
// field it does not read is refused.
type verbBody struct {
	Percent   *float64 `json:"percent,omitempty"`   // rollout: set to
	By        *float64 `json:"by,omitempty"`        // rollout: increment by (may be negative)
	Variation *int     `json:"variation,omitempty"` // rollout, pin
	Baseline  *int     `json:"baseline,omitempty"`  // rollout
	Rule      string   `json:"rule,omitempty"`      // rollout: a rule id instead of the fallthrough
	Users     []string `json:"users,omitempty"`     // pin, block, unpin
	NotBefore *string  `json:"notBefore,omitempty"` // schedule
	NotAfter  *string  `json:"notAfter,omitempty"`  // schedule
}

var verbFields = map[string][]string{
	"enable": {}, "disable": {}, "toggle": {}, "archive": {}, "unarchive": {},
	"rollout":  {"percent", "by", "variation", "baseline", "rule"},
	"pin":      {"users", "variation"},
	"block":    {"users"},
	"unpin":    {"users"},
	"schedule": {"notBefore", "notAfter"},
}

func (a *api) flagVerb(w http.ResponseWriter, r *http.Request) {
	verb, key := r.PathValue("verb"), r.PathValue("key")
	allowed, ok := verbFields[verb]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no flag verb "+quote(verb), []flagdoc.FieldError{{Field: "verb", Message: "unknown"}})
		return
	}
	var b verbBody
	if _, err := a.decodeOptional(w, r, &b); err != nil && !errors.Is(err, errNoBody) {
		a.fail(w, r, err)
		return
	}
	given := map[string]bool{"percent": b.Percent != nil, "by": b.By != nil, "variation": b.Variation != nil,
		"baseline": b.Baseline != nil, "rule": b.Rule != "", "users": b.Users != nil,
		"notBefore": b.NotBefore != nil, "notAfter": b.NotAfter != nil}
	for field, set := range given {
		if set && !slices.Contains(allowed, field) {
			a.fail(w, r, flagdoc.Errorf(field, "not a field of %s", verb))
			return
		}
	}
	var mutate func(st *store.State, f *flagdoc.Flag) error
	switch verb {
	case "enable", "disable", "toggle":
		mutate = func(_ *store.State, f *flagdoc.Flag) error {
			f.Enabled = verb == "enable" || (verb == "toggle" && !f.Enabled)
			return nil
		}
	case "rollout":
		if (b.Percent == nil) == (b.By == nil) {
			a.fail(w, r, flagdoc.Errorf("percent", "give exactly one of percent and by"))
			return
		}
		mutate = func(_ *store.State, f *flagdoc.Flag) error { return rollout(f, b) }
	case "pin", "block":
		mutate = func(_ *store.State, f *flagdoc.Flag) error {
			v := -1
			if b.Variation != nil {
				v = *b.Variation
			} else if verb == "pin" {
				on, _, isBool := f.BoolVariations()
				if !isBool {
					return flagdoc.Errorf("variation", "required: the flag is not boolean")
				}
				v = on
			} else {
				var err error
				if v, err = f.BlockVariation(); err != nil {
					return err
				}
			}
			return f.Pin(b.Users, v)
		}
	case "unpin":
		mutate = func(_ *store.State, f *flagdoc.Flag) error {
			if len(b.Users) == 0 {
				return flagdoc.Errorf("users", "give at least one user key")
			}
			f.Unpin(b.Users)
			return nil
		}
	case "schedule":
		mutate = func(_ *store.State, f *flagdoc.Flag) error {
			s := flagdoc.Schedule{}
			if b.NotBefore != nil {
				s.NotBefore = *b.NotBefore
			}
			if b.NotAfter != nil {
				s.NotAfter = *b.NotAfter
			}
			f.Schedule = &s
			if s == (flagdoc.Schedule{}) {
				f.Schedule = nil // no window: always active
			}
			return nil
		}
	case "archive", "unarchive":
		a.archive(w, r, key, verb == "archive")
		return
	}
	a.apply(w, r, "flag."+verb, flagSubject(key), func(st *store.State) error {
		f, err := loadActive(st, key)
		if err != nil {
			return err
		}
		if err := mutate(st, f); err != nil {
			return err
		}
		a.putFlagDoc(st, store.Flags, f)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, key) })
}

func rollout(f *flagdoc.Flag, b verbBody) error {
	variation, baseline := -1, -1
	if b.Variation != nil {
		variation = *b.Variation
	}
	if b.Baseline != nil {
		baseline = *b.Baseline
	}
	variation, baseline, err := f.DefaultVariations(variation, baseline)
	if err != nil {
		return err
	}
	var weight int
	if b.Percent != nil {
		if weight, err = flagdoc.Weight("percent", *b.Percent); err != nil {
			return err
		}
	} else {
		by, err := flagdoc.Weight("by", abs(*b.By))
		if err != nil {
			return err
		}
		if *b.By < 0 {
			by = -by
		}
		cur, err := f.RolloutWeight(b.Rule, variation)
		if err != nil {
			return err
		}
		weight = min(max(cur+by, 0), flagdoc.Full)
	}
	return f.SetRollout(b.Rule, variation, baseline, weight)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// archive moves a flag out of (or back into) the snapshot. Archiving a flag another flag
// depends on is refused by validation, naming the dependent flag.
func (a *api) archive(w http.ResponseWriter, r *http.Request, key string, archive bool) {
	from, to, action := store.Archived, store.Flags, "flag.unarchive"
	if archive {
		from, to, action = store.Flags, store.Archived, "flag.archive"
	}
	a.apply(w, r, action, flagSubject(key), func(st *store.State) error {
		var f flagdoc.Flag
		if !st.Get(from, key, &f) {
			if st.Has(to, key) {
				return nil // already there: nothing to do
			}
			return notFound("flag", key)
		}
		st.Delete(from, key)
		f.UpdatedAt = a.stamp()
		st.Put(to, key, &f)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, key) })
}

// killBody selects the flags a kill switch turns off.
type killBody struct {
	Tag    string `json:"tag,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// kill disables every active flag with a tag or key prefix in one change: one version step,
// one change-log entry.
func (a *api) kill(w http.ResponseWriter, r *http.Request) {
	var b killBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if (b.Tag == "") == (b.Prefix == "") {
		a.fail(w, r, flagdoc.Errorf("tag", "give exactly one of tag and prefix"))
		return
	}
	var killed []string
	a.apply(w, r, "flag.kill", flagdoc.Subject{}, func(st *store.State) error {
		killed = []string{}
		for _, key := range st.Keys(store.Flags) {
			var f flagdoc.Flag
			st.Get(store.Flags, key, &f)
			if (b.Tag != "" && slices.Contains(f.Tags, b.Tag)) || (b.Prefix != "" && strings.HasPrefix(key, b.Prefix)) {
				killed = append(killed, key)
				f.Enabled = false
				a.putFlagDoc(st, store.Flags, &f)
			}
		}
		if len(killed) == 0 {
			field := "tag"
			if b.Prefix != "" {
				field = "prefix"
			}
			return &wrapped{msg: field + ": no active flag matches", err: store.ErrNotFound}
		}
		return nil
	}, func(*store.State) map[string]any { return map[string]any{"flags": killed} })
}
