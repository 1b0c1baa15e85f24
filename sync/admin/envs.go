package admin

import (
	"net/http"
	"strconv"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

func (a *api) listEnvironments(w http.ResponseWriter, r *http.Request) {
	envs, err := a.Store.Environments(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"environments": envs})
}

type envBody struct {
	Key         string `json:"key"`
	Description string `json:"description,omitempty"`
}

func (a *api) createEnvironment(w http.ResponseWriter, r *http.Request) {
	var b envBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := store.CheckEnvironmentKey(b.Key); err != nil {
		a.fail(w, r, flagdoc.Errorf("key", "%v", err))
		return
	}
	env, keys, err := a.Store.CreateEnvironment(r.Context(), b.Key, b.Description)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"environment": env, "sdkKeys": keys})
}

func (a *api) getEnvironment(w http.ResponseWriter, r *http.Request) {
	env, err := a.Store.Environment(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	setETag(w, env.Version)
	writeJSON(w, http.StatusOK, map[string]any{"environment": env})
}

func (a *api) deleteEnvironment(w http.ResponseWriter, r *http.Request) {
	if err := a.Store.DeleteEnvironment(r.Context(), r.PathValue("env")); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": r.PathValue("env")})
}

func (a *api) getKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := a.Store.SDKKeys(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sdkKeys": keys})
}

func (a *api) rotateKey(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	if kind != "server" && kind != "client" {
		writeError(w, http.StatusNotFound, "not_found", "no key kind "+quote(kind)+" (server, client)",
			[]flagdoc.FieldError{{Field: "kind", Message: "want server or client"}})
		return
	}
	keys, err := a.Store.RotateSDKKey(r.Context(), r.PathValue("env"), kind)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sdkKeys": keys})
}

// getSnapshot serves the environment's full snapshot, exactly as hosts will load it.
func (a *api) getSnapshot(w http.ResponseWriter, r *http.Request) {
	st, err := a.Store.Read(r.Context(), r.PathValue("env"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	setETag(w, st.Version)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(st.Snapshot(st.Version), '\n'))
}

// importBody is a snapshot; its environment and version are informational here.
type importBody struct {
	SchemaVersion int               `json:"schemaVersion,omitempty"`
	Environment   string            `json:"environment,omitempty"`
	Version       uint64            `json:"version,omitempty"`
	Flags         []flagdoc.Flag    `json:"flags,omitempty"`
	Segments      []flagdoc.Segment `json:"segments,omitempty"`
}

// importSnapshot creates or replaces every flag and segment of a snapshot in one change, so
// flags that depend on each other arrive together (seeding, copying an environment).
func (a *api) importSnapshot(w http.ResponseWriter, r *http.Request) {
	var b importBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if b.SchemaVersion > 1 {
		a.fail(w, r, flagdoc.Errorf("schemaVersion", "unknown version %d (this daemon reads 1)", b.SchemaVersion))
		return
	}
	for i, f := range b.Flags {
		if f.Key == "" {
			a.fail(w, r, flagdoc.Errorf("flags["+strconv.Itoa(i)+"].key", "required"))
			return
		}
	}
	for i, s := range b.Segments {
		if s.Key == "" {
			a.fail(w, r, flagdoc.Errorf("segments["+strconv.Itoa(i)+"].key", "required"))
			return
		}
	}
	a.apply(w, r, "env.import", flagdoc.Subject{}, func(st *store.State) error {
		for _, s := range b.Segments {
			st.Put(store.Segments, s.Key, &s)
		}
		for _, f := range b.Flags {
			if st.Has(store.Archived, f.Key) {
				return &wrapped{msg: "flag " + quote(f.Key) + " is archived: unarchive or delete it first", err: store.ErrExists}
			}
			if f.CreatedAt == "" {
				f.CreatedAt = a.stamp()
			}
			a.putFlagDoc(st, store.Flags, &f)
		}
		return nil
	}, func(*store.State) map[string]any {
		return map[string]any{"flags": len(b.Flags), "segments": len(b.Segments)}
	})
}
