// Package sdkapi is the daemon's API for hosts, authorized by SDK keys (sync/PROTOCOL.md):
// the snapshot endpoint (gzip, ETag = version, If-None-Match → 304), the Server-Sent Events
// stream (served by sync/stream), and OpenFeature remote evaluation (OFREP) answered by the
// daemon's own engine. A server key gets the environment's full snapshot, a client key the
// browser-safe one; responses to client keys carry CORS headers, responses to server keys
// none.
package sdkapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vexil-flags/vexil/sync/auth"
	"github.com/vexil-flags/vexil/sync/follow"
	"github.com/vexil-flags/vexil/sync/store"
	"github.com/vexil-flags/vexil/sync/stream"
)

// MaxBody bounds OFREP request bodies.
const MaxBody = 64 << 10

// Config configures the API.
type Config struct {
	Store    *store.Store
	Follower *follow.Follower
	Hub      *stream.Hub
	Log      *slog.Logger
	// LoadWait bounds how long a request waits for an environment's first load; 3s when 0.
	LoadWait time.Duration
}

type api struct {
	Config
	mu    sync.Mutex
	known map[string]keyInfo // key digest → last successful lookup, used while Redis is down
}

type keyInfo struct{ env, kind string }

// maxKnown bounds the fallback key cache.
const maxKnown = 10000

// Handler serves /sdk/v1/snapshot, /sdk/v1/stream and /ofrep/v1/evaluate/flags[/{key}].
func Handler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LoadWait == 0 {
		cfg.LoadWait = 3 * time.Second
	}
	a := &api{Config: cfg, known: map[string]keyInfo{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sdk/v1/snapshot", a.with(a.snapshot))
	mux.HandleFunc("GET /sdk/v1/stream", a.with(a.stream))
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", a.with(a.evaluateFlag))
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags", a.with(a.evaluateFlags))
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{$}", a.with(a.evaluateFlag)) // key "": FLAG_NOT_FOUND
	for _, p := range []string{"/sdk/v1/snapshot", "/sdk/v1/stream", "/ofrep/v1/evaluate/flags/{key}", "/ofrep/v1/evaluate/flags"} {
		mux.HandleFunc("OPTIONS "+p, preflight)
	}
	return mux
}

// request is an authorized request: its environment, kind of key, and current view.
type request struct {
	env  string
	kind string
	view *follow.View // the view the key may see (browser-safe for client keys)
}

func (a *api) with(h func(w http.ResponseWriter, r *http.Request, q *request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, fromQuery := auth.Bearer(r), false
		if key == "" {
			key, fromQuery = r.URL.Query().Get("key"), true
		}
		if key == "" {
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing SDK key (Authorization: Bearer KEY)")
			return
		}
		env, kind, err := a.lookup(r.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown or rotated SDK key")
			return
		}
		if err != nil {
			a.Log.Warn("sdkapi: key lookup", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot check the SDK key now; retry")
			return
		}
		if fromQuery && kind != auth.ClientKey {
			writeError(w, http.StatusUnauthorized, "unauthorized", "server keys go in the Authorization header, never in the URL")
			return
		}
		if kind == auth.ClientKey {
			cors(w.Header())
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.LoadWait)
		v, err := a.Follower.View(ctx, env)
		cancel()
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "environment "+strconv.Quote(env)+" not loaded: "+err.Error())
			return
		}
		if kind == auth.ClientKey {
			v = v.ClientView()
		}
		h(w, r, &request{env: env, kind: kind, view: v})
	}
}

// lookup checks an SDK key against Redis; when Redis cannot answer, a key that passed before
// still passes (hosts keep working through an outage). A key Redis says is unknown is
// forgotten at once, so rotation takes effect immediately whenever Redis answers.
func (a *api) lookup(ctx context.Context, key string) (env, kind string, err error) {
	id := auth.KeyID(key)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	env, kind, err = a.Store.LookupSDKKey(ctx, key)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err == nil:
		if len(a.known) >= maxKnown {
			clear(a.known)
		}
		a.known[id] = keyInfo{env, kind}
	case errors.Is(err, store.ErrNotFound):
		delete(a.known, id)
	default:
		if k, ok := a.known[id]; ok {
			return k.env, k.kind, nil
		}
	}
	return env, kind, err
}

func cors(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag")
}

func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	cors(h)
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match, Last-Event-ID")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	b := append([]byte(`{"code":`), strconv.Quote(code)...)
	b = append(append(b, `,"message":`...), strconv.Quote(msg)...)
	_, _ = w.Write(append(b, "}\n"...))
}

// etag is the entity tag of a version.
func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// notModified reports whether If-None-Match names version (strong or weak, in a list, or *).
func notModified(r *http.Request, version uint64) bool {
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	want := etag(version)
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == want {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			q = strings.ReplaceAll(strings.TrimSpace(q), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func (a *api) snapshot(w http.ResponseWriter, r *http.Request, q *request) {
	h := w.Header()
	h.Set("ETag", etag(q.view.Version))
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	if notModified(r, q.view.Version) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	body := q.view.JSON()
	if acceptsGzip(r) {
		body = q.view.Gzip()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (a *api) stream(w http.ResponseWriter, r *http.Request, q *request) {
	kind := stream.Server
	if q.kind == auth.ClientKey {
		kind = stream.Client
	}
	a.Hub.Serve(w, r, q.env, kind)
}
