// Package client is a Go client of the daemon's admin API, used by the vexil command and by
// tests. Methods map one to one onto endpoints (see sync/API.md); errors from the daemon come
// back as *Error with the HTTP status and the fields the daemon named.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

// Client talks to one daemon with one admin token.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8470
	Token   string // admin token
	Actor   string // sent as X-Vexil-Actor: the person behind the token, for the audit log
	HTTP    *http.Client
}

// New returns a client with a 30-second timeout and its own connection pool. The pool keeps
// up to 16 idle connections (the default transport keeps 2 per host, so concurrent callers
// would open and close a connection per request and pile up TIME_WAIT sockets).
func New(baseURL, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
}

// Error is an error response of the daemon.
type Error struct {
	Status  int                  `json:"-"`
	Code    string               `json:"code"`
	Message string               `json:"message"`
	Fields  []flagdoc.FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// Do sends a request with a JSON body (nil for none) and decodes a 2xx JSON answer into out
// (nil to drop it). ifMatch, when not nil, is sent as If-Match. It returns the response's
// version (its ETag), or 0.
func (c *Client) Do(ctx context.Context, method, path string, body any, ifMatch *uint64, out any) (uint64, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+"/api/v1"+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if c.Actor != "" {
		req.Header.Set("X-Vexil-Actor", c.Actor)
	}
	if ifMatch != nil {
		req.Header.Set("If-Match", `"`+strconv.FormatUint(*ifMatch, 10)+`"`)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	version, _ := strconv.ParseUint(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Message == "" {
			e.Message = strings.TrimSpace(string(data))
		}
		return version, e
	}
	if out != nil {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], data...)
			return version, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return version, fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
		}
	}
	return version, nil
}

func esc(s string) string { return url.PathEscape(s) }

func envPath(env string) string { return "/environments/" + esc(env) }

// FlagState is a flag as the API returns it.
type FlagState struct {
	Version  uint64        `json:"version"`
	Changed  bool          `json:"changed"`
	ChangeID string        `json:"changeId,omitempty"`
	Archived bool          `json:"archived"`
	Flag     *flagdoc.Flag `json:"flag"`
	Plan     *flagdoc.Plan `json:"plan,omitempty"`
}

// SegmentState is a segment as the API returns it.
type SegmentState struct {
	Version  uint64           `json:"version"`
	Changed  bool             `json:"changed"`
	ChangeID string           `json:"changeId,omitempty"`
	Segment  *flagdoc.Segment `json:"segment"`
}

// Environments lists environments.
func (c *Client) Environments(ctx context.Context) ([]store.Environment, error) {
	var out struct {
		Environments []store.Environment `json:"environments"`
	}
	_, err := c.Do(ctx, "GET", "/environments", nil, nil, &out)
	return out.Environments, err
}

// CreateEnvironment creates an environment and returns its SDK keys.
func (c *Client) CreateEnvironment(ctx context.Context, key, description string) (store.Environment, store.SDKKeys, error) {
	var out struct {
		Environment store.Environment `json:"environment"`
		SDKKeys     store.SDKKeys     `json:"sdkKeys"`
	}
	_, err := c.Do(ctx, "POST", "/environments", map[string]string{"key": key, "description": description}, nil, &out)
	return out.Environment, out.SDKKeys, err
}

// Environment returns one environment.
func (c *Client) Environment(ctx context.Context, env string) (store.Environment, error) {
	var out struct {
		Environment store.Environment `json:"environment"`
	}
	_, err := c.Do(ctx, "GET", envPath(env), nil, nil, &out)
	return out.Environment, err
}

// DeleteEnvironment deletes an environment and everything in it.
func (c *Client) DeleteEnvironment(ctx context.Context, env string) error {
	_, err := c.Do(ctx, "DELETE", envPath(env), nil, nil, nil)
	return err
}

// SDKKeys returns an environment's SDK keys.
func (c *Client) SDKKeys(ctx context.Context, env string) (store.SDKKeys, error) {
	var out struct {
		SDKKeys store.SDKKeys `json:"sdkKeys"`
	}
	_, err := c.Do(ctx, "GET", envPath(env)+"/keys", nil, nil, &out)
	return out.SDKKeys, err
}

// RotateSDKKey replaces the server or client key.
func (c *Client) RotateSDKKey(ctx context.Context, env, kind string) (store.SDKKeys, error) {
	var out struct {
		SDKKeys store.SDKKeys `json:"sdkKeys"`
	}
	_, err := c.Do(ctx, "POST", envPath(env)+"/keys/"+esc(kind)+"/rotate", nil, nil, &out)
	return out.SDKKeys, err
}

// FlagFilter selects flags to list.
type FlagFilter struct {
	Tag, Type, Prefix string
	Archived          bool
}

// Flags lists flags and returns the environment version they were read at.
func (c *Client) Flags(ctx context.Context, env string, f FlagFilter) ([]flagdoc.Flag, uint64, error) {
	q := url.Values{}
	for k, v := range map[string]string{"tag": f.Tag, "type": f.Type, "prefix": f.Prefix} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Archived {
		q.Set("archived", "true")
	}
	var out struct {
		Version uint64         `json:"version"`
		Flags   []flagdoc.Flag `json:"flags"`
	}
	path := envPath(env) + "/flags"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	_, err := c.Do(ctx, "GET", path, nil, nil, &out)
	return out.Flags, out.Version, err
}

func (c *Client) flag(ctx context.Context, method, path string, body any, ifMatch *uint64) (FlagState, error) {
	var out FlagState
	_, err := c.Do(ctx, method, path, body, ifMatch, &out)
	return out, err
}

// Flag reads one flag with the environment version (pass it to UpdateFlag as ifMatch).
func (c *Client) Flag(ctx context.Context, env, key string) (FlagState, error) {
	return c.flag(ctx, "GET", envPath(env)+"/flags/"+esc(key), nil, nil)
}

// CreateFlag creates a flag (409 if the key exists).
func (c *Client) CreateFlag(ctx context.Context, env string, f *flagdoc.Flag) (FlagState, error) {
	return c.flag(ctx, "POST", envPath(env)+"/flags", f, nil)
}

// UpdateFlag replaces a flag; with ifMatch, only if the environment is still at that version.
func (c *Client) UpdateFlag(ctx context.Context, env string, f *flagdoc.Flag, ifMatch *uint64) (FlagState, error) {
	return c.flag(ctx, "PUT", envPath(env)+"/flags/"+esc(f.Key), f, ifMatch)
}

// DeleteFlag deletes a flag (and its plan).
func (c *Client) DeleteFlag(ctx context.Context, env, key string) (FlagState, error) {
	return c.flag(ctx, "DELETE", envPath(env)+"/flags/"+esc(key), nil, nil)
}

// VerbBody is the body of a flag verb; see sync/API.md for which verb reads which field.
type VerbBody struct {
	Percent   *float64 `json:"percent,omitempty"`
	By        *float64 `json:"by,omitempty"`
	Variation *int     `json:"variation,omitempty"`
	Baseline  *int     `json:"baseline,omitempty"`
	Rule      string   `json:"rule,omitempty"`
	Users     []string `json:"users,omitempty"`
	NotBefore *string  `json:"notBefore,omitempty"`
	NotAfter  *string  `json:"notAfter,omitempty"`
}

// FlagVerb runs a verb: enable, disable, toggle, rollout, pin, block, unpin, schedule,
// archive, unarchive.
func (c *Client) FlagVerb(ctx context.Context, env, key, verb string, body *VerbBody) (FlagState, error) {
	var b any
	if body != nil {
		b = body
	}
	return c.flag(ctx, "POST", envPath(env)+"/flags/"+esc(key)+"/"+esc(verb), b, nil)
}

// PlanBody creates a staged rollout plan.
type PlanBody struct {
	Stages    []float64 `json:"stages"`
	Rule      string    `json:"rule,omitempty"`
	Variation *int      `json:"variation,omitempty"`
	Baseline  *int      `json:"baseline,omitempty"`
}

// SetPlan creates or replaces a flag's staged rollout plan.
func (c *Client) SetPlan(ctx context.Context, env, key string, p PlanBody) (FlagState, error) {
	return c.flag(ctx, "PUT", envPath(env)+"/flags/"+esc(key)+"/plan", p, nil)
}

// StepPlan advances ("advance") or rolls back ("rollback") a plan.
func (c *Client) StepPlan(ctx context.Context, env, key, step string) (FlagState, error) {
	return c.flag(ctx, "POST", envPath(env)+"/flags/"+esc(key)+"/plan/"+esc(step), nil, nil)
}

// DeletePlan removes a flag's plan.
func (c *Client) DeletePlan(ctx context.Context, env, key string) (FlagState, error) {
	return c.flag(ctx, "DELETE", envPath(env)+"/flags/"+esc(key)+"/plan", nil, nil)
}

// KillResult is what a kill switch did.
type KillResult struct {
	Version  uint64   `json:"version"`
	ChangeID string   `json:"changeId"`
	Flags    []string `json:"flags"`
}

// Kill disables every flag with the tag (or, with tag empty, the key prefix) in one change.
func (c *Client) Kill(ctx context.Context, env, tag, prefix string) (KillResult, error) {
	var out KillResult
	body := map[string]string{}
	if tag != "" {
		body["tag"] = tag
	}
	if prefix != "" {
		body["prefix"] = prefix
	}
	_, err := c.Do(ctx, "POST", envPath(env)+"/kill", body, nil, &out)
	return out, err
}

// Segments lists segments.
func (c *Client) Segments(ctx context.Context, env string) ([]flagdoc.Segment, uint64, error) {
	var out struct {
		Version  uint64            `json:"version"`
		Segments []flagdoc.Segment `json:"segments"`
	}
	_, err := c.Do(ctx, "GET", envPath(env)+"/segments", nil, nil, &out)
	return out.Segments, out.Version, err
}

func (c *Client) segment(ctx context.Context, method, path string, body any, ifMatch *uint64) (SegmentState, error) {
	var out SegmentState
	_, err := c.Do(ctx, method, path, body, ifMatch, &out)
	return out, err
}

// Segment reads a segment.
func (c *Client) Segment(ctx context.Context, env, key string) (SegmentState, error) {
	return c.segment(ctx, "GET", envPath(env)+"/segments/"+esc(key), nil, nil)
}

// CreateSegment creates a segment.
func (c *Client) CreateSegment(ctx context.Context, env string, s *flagdoc.Segment) (SegmentState, error) {
	return c.segment(ctx, "POST", envPath(env)+"/segments", s, nil)
}

// UpdateSegment replaces a segment.
func (c *Client) UpdateSegment(ctx context.Context, env string, s *flagdoc.Segment, ifMatch *uint64) (SegmentState, error) {
	return c.segment(ctx, "PUT", envPath(env)+"/segments/"+esc(s.Key), s, ifMatch)
}

// DeleteSegment deletes a segment (refused while a flag uses it).
func (c *Client) DeleteSegment(ctx context.Context, env, key string) (SegmentState, error) {
	return c.segment(ctx, "DELETE", envPath(env)+"/segments/"+esc(key), nil, nil)
}

// SegmentMembers adds and removes users of a segment's included (or excluded) list.
func (c *Client) SegmentMembers(ctx context.Context, env, key, list string, add, remove []string) (SegmentState, error) {
	body := map[string]any{}
	if list != "" {
		body["list"] = list
	}
	if len(add) > 0 {
		body["add"] = add
	}
	if len(remove) > 0 {
		body["remove"] = remove
	}
	return c.segment(ctx, "POST", envPath(env)+"/segments/"+esc(key)+"/members", body, nil)
}

// AuditQuery selects audit entries; zero fields select everything.
type AuditQuery struct {
	Flag, Segment, Actor string
	Since, Until         time.Time
	After                string
	Limit                int
	Oldest               bool
}

// Audit reads the change log.
func (c *Client) Audit(ctx context.Context, env string, q AuditQuery) ([]store.Entry, error) {
	v := url.Values{}
	for k, s := range map[string]string{"flag": q.Flag, "segment": q.Segment, "actor": q.Actor, "after": q.After} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Oldest {
		v.Set("order", "oldest")
	}
	var out struct {
		Entries []store.Entry `json:"entries"`
	}
	path := envPath(env) + "/audit"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	_, err := c.Do(ctx, "GET", path, nil, nil, &out)
	return out.Entries, err
}

// ExplainBody asks why a context gets a flag's value (every flag's when Flag is empty).
type ExplainBody struct {
	Flag    string          `json:"flag,omitempty"`
	Context json.RawMessage `json:"context"`
	Now     json.RawMessage `json:"now,omitempty"`
	Random  *uint32         `json:"random,omitempty"`
}

// Explain returns the explanation JSON as the daemon renders it.
func (c *Client) Explain(ctx context.Context, env string, b ExplainBody) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.Do(ctx, "POST", envPath(env)+"/explain", b, nil, &out)
	return out, err
}

// Snapshot returns the environment's full snapshot.
func (c *Client) Snapshot(ctx context.Context, env string) (json.RawMessage, error) {
	var out json.RawMessage
	_, err := c.Do(ctx, "GET", envPath(env)+"/snapshot", nil, nil, &out)
	return out, err
}

// ImportResult is what an import did.
type ImportResult struct {
	Version  uint64 `json:"version"`
	Changed  bool   `json:"changed"`
	ChangeID string `json:"changeId,omitempty"`
	Flags    int    `json:"flags"`
	Segments int    `json:"segments"`
}

// Import creates or replaces every flag and segment of a snapshot in one change.
func (c *Client) Import(ctx context.Context, env string, snapshot json.RawMessage) (ImportResult, error) {
	var out ImportResult
	_, err := c.Do(ctx, "POST", envPath(env)+"/import", snapshot, nil, &out)
	return out, err
}
