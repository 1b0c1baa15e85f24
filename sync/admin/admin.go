// Package admin is the daemon's admin REST API (/api/v1): environments and their SDK keys,
// flags and segments with their verbs, kill switches, staged rollout plans, the audit log and
// explain. Every request needs an admin token (bearer); every body is bounded and decoded
// strictly; every change goes through store.Apply, so it is validated by the engine and
// applied atomically or not at all. The API is described by the OpenAPI document served at
// /api/v1/openapi.json (openapi.json in this package) and guided in sync/API.md.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vexil-flags/vexil/sync/auth"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

// DefaultMaxBody bounds request bodies unless Config says otherwise: enough for a flag with
// tens of thousands of targets, not enough to exhaust memory.
const DefaultMaxBody = 1 << 20

// Config configures the API.
type Config struct {
	Store   *store.Store
	Tokens  *auth.Tokens
	MaxBody int64        // bytes; DefaultMaxBody when 0
	Log     *slog.Logger // server errors; slog.Default() when nil
	// Registerer receives the API's metrics (changes by action and outcome); none when nil.
	Registerer prometheus.Registerer
	// Now is the clock for updatedAt/createdAt stamps; time.Now when nil.
	Now func() time.Time
}

type api struct {
	Config
	changes *prometheus.CounterVec
}

// Handler returns the API's handler, serving paths under /api/v1/.
func Handler(cfg Config) http.Handler {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &api{Config: cfg, changes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vexil_changes_total",
		Help: "Changes attempted through the admin API, by action and outcome (applied, unchanged, invalid, stale, not_found, conflict, error).",
	}, []string{"action", "outcome"})}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(a.changes)
	}
	mux := http.NewServeMux()
	const v1 = "/api/v1"
	mux.HandleFunc("GET "+v1+"/openapi.json", serveOpenAPI)
	// allowed holds the methods of each path, for the 405 answer to any other method.
	allowed := map[string][]string{}
	var paths []string
	route := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+v1+path, a.authorize(h))
		if allowed[path] == nil {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
	}
	route("GET /environments", a.listEnvironments)
	route("POST /environments", a.createEnvironment)
	route("GET /environments/{env}", a.getEnvironment)
	route("DELETE /environments/{env}", a.deleteEnvironment)
	route("GET /environments/{env}/keys", a.getKeys)
	route("POST /environments/{env}/keys/{kind}/rotate", a.rotateKey)
	route("GET /environments/{env}/snapshot", a.getSnapshot)
	route("POST /environments/{env}/import", a.importSnapshot)
	route("GET /environments/{env}/flags", a.listFlags)
	route("POST /environments/{env}/flags", a.createFlag)
	route("GET /environments/{env}/flags/{key}", a.getFlag)
	route("PUT /environments/{env}/flags/{key}", a.putFlag)
	route("DELETE /environments/{env}/flags/{key}", a.deleteFlag)
	route("POST /environments/{env}/flags/{key}/{verb}", a.flagVerb)
	route("GET /environments/{env}/flags/{key}/plan", a.getPlan)
	route("PUT /environments/{env}/flags/{key}/plan", a.putPlan)
	route("DELETE /environments/{env}/flags/{key}/plan", a.deletePlan)
	route("POST /environments/{env}/flags/{key}/plan/{step}", a.stepPlan)
	route("GET /environments/{env}/segments", a.listSegments)
	route("POST /environments/{env}/segments", a.createSegment)
	route("GET /environments/{env}/segments/{key}", a.getSegment)
	route("PUT /environments/{env}/segments/{key}", a.putSegment)
	route("DELETE /environments/{env}/segments/{key}", a.deleteSegment)
	route("POST /environments/{env}/segments/{key}/members", a.segmentMembers)
	route("POST /environments/{env}/kill", a.kill)
	route("GET /environments/{env}/audit", a.audit)
	route("POST /environments/{env}/explain", a.explain)
	// What no route takes: 405 (with Allow) when the path is an endpoint's and only the method
	// is wrong, else 404. A second mux of the paths alone tells them apart with the same
	// pattern matching.
	byPath := http.NewServeMux()
	for _, path := range paths {
		allow := strings.Join(allowed[path], ", ")
		byPath.HandleFunc(v1+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				r.Method+" "+r.URL.Path+": allowed methods are "+allow, nil)
		})
	}
	mux.HandleFunc(v1+"/", func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := byPath.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
	})
	return mux
}

type actorKey struct{}

// authorize admits requests with a valid admin token. The actor recorded with a change is the
// token's name, and "/" and the X-Vexil-Actor header when the client names the person (the
// CLI sends $USER): the token is what is trusted, the person is what is useful to read.
func (a *api) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := a.Tokens.Check(auth.Bearer(r))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vexil"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing or unknown admin token (Authorization: Bearer TOKEN)", nil)
			return
		}
		actor := name
		if who := strings.TrimSpace(r.Header.Get("X-Vexil-Actor")); who != "" && len(who) <= 128 {
			actor += "/" + who
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	})
}

func actor(r *http.Request) string { s, _ := r.Context().Value(actorKey{}).(string); return s }

// apiError is the body of every error response.
type apiError struct {
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  []flagdoc.FieldError `json:"fields,omitempty"`
	Version *uint64              `json:"version,omitempty"` // current version, on 412
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string, fields []flagdoc.FieldError) {
	writeJSON(w, status, apiError{Code: code, Message: msg, Fields: fields})
}

// fail answers an error with its status: field errors 400, missing 404, existing 409, stale
// 412, oversized 413, contention 503, anything else 500 (logged, not shown).
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) string {
	var fe *flagdoc.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, "invalid", fe.Error(), fe.Fields)
		return "invalid"
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large",
			fmt.Sprintf("body: larger than %d bytes", tooBig.Limit), []flagdoc.FieldError{{Field: "body", Message: "too large"}})
		return "invalid"
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), nil)
		return "not_found"
	case errors.Is(err, store.ErrExists):
		writeError(w, http.StatusConflict, "conflict", err.Error(), nil)
		return "conflict"
	case errors.Is(err, store.ErrStale):
		writeError(w, http.StatusPreconditionFailed, "stale", err.Error()+"; read again and retry", []flagdoc.FieldError{{Field: "If-Match", Message: "stale version"}})
		return "stale"
	case errors.Is(err, store.ErrBusy):
		writeError(w, http.StatusServiceUnavailable, "busy", err.Error(), nil)
		return "error"
	}
	a.Log.Error("admin API", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error; the daemon's log has the details", nil)
	return "error"
}

// decode reads a bounded body strictly into v (see flagdoc.Decode).
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any) error {
	_, err := a.decodeOptional(w, r, v)
	if errors.Is(err, errNoBody) {
		return flagdoc.Errorf("body", "malformed JSON: empty body")
	}
	return err
}

var errNoBody = errors.New("no body")

// decodeDoc reads a flag or segment document whose key field is *key. On create (pathKey
// empty) the key is required; on replace an absent key is the path's, and another is refused:
// renaming is create and delete.
func (a *api) decodeDoc(w http.ResponseWriter, r *http.Request, v any, key *string, pathKey string) error {
	if err := a.decode(w, r, v); err != nil {
		return err
	}
	switch {
	case pathKey == "" && *key == "":
		return flagdoc.Errorf("key", "required")
	case pathKey != "" && *key == "":
		*key = pathKey
	case pathKey != "" && *key != pathKey:
		return flagdoc.Errorf("key", "%s does not match the path's %s (rename by create and delete)", quote(*key), quote(pathKey))
	}
	return nil
}

// decodeOptional is decode for endpoints whose body may be left out (verbs without fields):
// an empty or blank body is errNoBody, and v stays as it is.
func (a *api) decodeOptional(w http.ResponseWriter, r *http.Request, v any) (bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.MaxBody))
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false, errNoBody
	}
	return true, flagdoc.Decode(body, v, "")
}

// ifMatch reads If-Match: a version as the ETag gives it ("42", also 42 or W/"42"); absent or
// * means no precondition.
func ifMatch(r *http.Request) (*uint64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	s := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, flagdoc.Errorf("If-Match", "want an environment version such as \"42\", got %q", h)
	}
	return &v, nil
}

func setETag(w http.ResponseWriter, version uint64) {
	w.Header().Set("ETag", `"`+strconv.FormatUint(version, 10)+`"`)
}

// apply runs a change for a request and answers it: respond builds the success body from the
// state after the change. The response carries the new version as ETag and in the body.
func (a *api) apply(w http.ResponseWriter, r *http.Request, action string, subject flagdoc.Subject,
	mutate func(*store.State) error, respond func(st *store.State) map[string]any) {
	match, err := ifMatch(r)
	if err != nil {
		a.changes.WithLabelValues(action, a.fail(w, r, err)).Inc()
		return
	}
	res, err := a.Store.Apply(r.Context(), store.Change{
		Env: r.PathValue("env"), IfMatch: match, Actor: actor(r), Action: action, Subject: subject, Mutate: mutate,
	})
	if err != nil {
		a.changes.WithLabelValues(action, a.fail(w, r, err)).Inc()
		return
	}
	outcome := "applied"
	if res.ID == "" {
		outcome = "unchanged"
	}
	a.changes.WithLabelValues(action, outcome).Inc()
	body := map[string]any{}
	if respond != nil {
		body = respond(res.State)
	}
	body["version"] = res.Version
	body["changed"] = res.ID != ""
	if res.ID != "" {
		body["changeId"] = res.ID
	}
	setETag(w, res.Version)
	status := http.StatusOK
	if r.Method == http.MethodPost && (strings.HasSuffix(r.Pattern, "/flags") || strings.HasSuffix(r.Pattern, "/segments")) {
		status = http.StatusCreated
	}
	writeJSON(w, status, body)
}

// query reads a query parameter, refusing unknown ones so a typo (?tga=x) is not silently
// ignored.
func query(r *http.Request, known ...string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		ok := false
		for _, n := range known {
			ok = ok || n == k
		}
		if !ok {
			return nil, flagdoc.Errorf(k, "unknown query parameter (known: %s)", strings.Join(known, ", "))
		}
		if len(v) != 1 {
			return nil, flagdoc.Errorf(k, "give it once")
		}
		out[k] = v[0]
	}
	return out, nil
}
