package admin

import (
	"net/http"

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
