package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// Change is one atomic change of an environment.
type Change struct {
	Env string
	// IfMatch, when set, is the version the writer read: any other current version fails the
	// change with ErrStale and writes nothing.
	IfMatch *uint64
	Actor   string // who: the admin token's name, and the person if the client says
	Action  string // what, e.g. "flag.update", "flag.kill"
	// Subject is the document the change is about; validation problems in it are named
	// relative to it. Empty for changes of many documents.
	Subject flagdoc.Subject
	// Mutate edits the state. It may run more than once (on a fresh read each time) when
	// concurrent changes race and IfMatch is not set, so it must not have other effects.
	Mutate func(*State) error
}

// Result is what an applied change did.
type Result struct {
	Version uint64 // the environment version after the change
	ID      string // the change-log entry id; empty when nothing changed
	State   *State // the state the change was applied to, edits included
}

// maxAttempts bounds the retries of a change without IfMatch under contention.
const maxAttempts = 50

// apply runs one change atomically: check the version and that the environment exists, write
// and delete documents, increment the version, append the change-log entry.
//
// KEYS: meta, version, changes, then the collection hashes.
// ARGV: expected version, number of edits, the change log's bound (0: none), per edit
// (collection index, key, 'set'|'del', document), then the change-log fields as name/value
// pairs.
// Returns {1, version, entry id}, {0, current version} on a stale version, {-1} without meta.
var apply = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur ~= tonumber(ARGV[1]) then return {0, cur} end
local n = tonumber(ARGV[2])
local i = 4
for _ = 1, n do
  local key = KEYS[4 + tonumber(ARGV[i])]
  if ARGV[i + 2] == 'set' then
    redis.call('HSET', key, ARGV[i + 1], ARGV[i + 3])
  else
    redis.call('HDEL', key, ARGV[i + 1])
  end
  i = i + 4
end
local v = redis.call('INCR', KEYS[2])
local fields = {'version', tostring(v)}
for j = i, #ARGV do fields[#fields + 1] = ARGV[j] end
local id
if ARGV[3] == '0' then
  id = redis.call('XADD', KEYS[3], '*', unpack(fields))
else
  id = redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[3], '*', unpack(fields))
end
return {1, v, id}`)

// Apply runs a change: read, mutate, validate, write — atomically, or not at all. A change
// that edits nothing succeeds without a version step or log entry. Errors: ErrNotFound for a
// missing environment, ErrStale for a stale IfMatch, *flagdoc.Error when the candidate
// environment does not validate, ErrBusy when contention outlasts the retries, or Mutate's.
func (s *Store) Apply(ctx context.Context, c Change) (Result, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		st, err := s.Read(ctx, c.Env)
		if err != nil {
			return Result{}, err
		}
		if c.IfMatch != nil && *c.IfMatch != st.Version {
			return Result{Version: st.Version}, fmt.Errorf("%w: If-Match %d, current %d", ErrStale, *c.IfMatch, st.Version)
		}
		if err := c.Mutate(st); err != nil {
			return Result{Version: st.Version}, err
		}
		if st.corrupt != nil {
			return Result{}, st.corrupt
		}
		edits := st.changes()
		if len(edits) == 0 {
			return Result{Version: st.Version, State: st}, nil
		}
		if touchesSnapshot(edits) {
			if err := flagdoc.Validate(st.Snapshot(st.Version+1), st.Docs(Flags), st.Docs(Segments), c.Subject); err != nil {
				return Result{Version: st.Version}, err
			}
		}
		res, err := s.write(ctx, c, st, edits)
		if errors.Is(err, errRace) {
			if c.IfMatch != nil {
				return Result{Version: res.Version}, fmt.Errorf("%w: If-Match %d, changed meanwhile", ErrStale, *c.IfMatch)
			}
			continue
		}
		return res, err
	}
	return Result{}, ErrBusy
}

var errRace = errors.New("version changed since read")

func touchesSnapshot(edits []edit) bool {
	for _, e := range edits {
		if collections[e.coll] == Flags || collections[e.coll] == Segments {
			return true
		}
	}
	return false
}

func (s *Store) write(ctx context.Context, c Change, st *State, edits []edit) (Result, error) {
	k := keysOf(c.Env)
	args := make([]any, 0, 3+4*len(edits)+12)
	args = append(args, st.Version, len(edits), s.keep)
	before, after := map[string]map[string]json.RawMessage{}, map[string]map[string]json.RawMessage{}
	for _, e := range edits {
		op, doc := "set", e.after
		if doc == nil {
			op, doc = "del", []byte{}
		}
		args = append(args, e.coll, e.key, op, doc)
		name := collections[e.coll]
		if before[name] == nil {
			before[name], after[name] = map[string]json.RawMessage{}, map[string]json.RawMessage{}
		}
		before[name][e.key] = rawOrNull(e.before)
		after[name][e.key] = rawOrNull(e.after)
	}
	subject := ""
	if c.Subject.Collection != "" {
		subject = c.Subject.Collection + "/" + c.Subject.Key
	}
	args = append(args,
		"time", time.Now().UTC().Format(time.RFC3339Nano),
		"actor", c.Actor,
		"action", c.Action,
		"subject", subject,
		"before", flagdoc.Marshal(before),
		"after", flagdoc.Marshal(after))
	res, err := apply.Run(ctx, s.rdb, k.all(), args...).Slice()
	if err != nil {
		return Result{}, err
	}
	switch res[0].(int64) {
	case -1:
		return Result{}, fmt.Errorf("environment %q %w", c.Env, ErrNotFound)
	case 0:
		return Result{Version: uint64(res[1].(int64))}, errRace
	}
	return Result{Version: uint64(res[1].(int64)), ID: res[2].(string), State: st}, nil
}

func rawOrNull(b []byte) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

// Entry is one change-log entry: one change, with the version it produced.
type Entry struct {
	ID      string `json:"id"` // stream entry id: resume a follower after it
	Version uint64 `json:"version"`
	Time    string `json:"time"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Subject string `json:"subject,omitempty"` // "flags/KEY", "segments/KEY"; empty for many
	// Before and After map collection → key → document (null: absent) for every document the
	// change touched.
	Before map[string]map[string]json.RawMessage `json:"before"`
	After  map[string]map[string]json.RawMessage `json:"after"`
}

// Touches reports whether the entry changed the document coll/key.
func (e *Entry) Touches(coll, key string) bool {
	_, a := e.Before[coll][key]
	_, b := e.After[coll][key]
	return a || b
}

func parseEntry(m redis.XMessage) (Entry, error) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	e := Entry{ID: m.ID, Time: str("time"), Actor: str("actor"), Action: str("action"), Subject: str("subject")}
	var err error
	if e.Version, err = strconv.ParseUint(str("version"), 10, 64); err != nil {
		return e, fmt.Errorf("change log entry %s: bad version %q", m.ID, str("version"))
	}
	if err := json.Unmarshal([]byte(str("before")), &e.Before); err != nil {
		return e, fmt.Errorf("change log entry %s: before: %v", m.ID, err)
	}
	if err := json.Unmarshal([]byte(str("after")), &e.After); err != nil {
		return e, fmt.Errorf("change log entry %s: after: %v", m.ID, err)
	}
	return e, nil
}

// Query selects change-log entries. Zero fields select everything.
type Query struct {
	Flag, Segment string    // entries touching this flag (archived and plan included) / segment
	Actor         string    // entries by this actor
	Since, Until  time.Time // entry time in [Since, Until)
	After         string    // entries after this entry id (exclusive), for followers
	Limit         int       // at most this many (default and maximum 1000)
	Newest        bool      // newest first (audit views) instead of oldest first
}

// Changes returns the change-log entries matching q.
func (s *Store) Changes(ctx context.Context, env string, q Query) ([]Entry, error) {
	if CheckEnvironmentKey(env) != nil {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	k := keysOf(env)
	if n, err := s.rdb.Exists(ctx, k.meta).Result(); err != nil {
		return nil, err
	} else if n == 0 {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	lo, hi := "-", "+"
	if !q.Since.IsZero() {
		lo = strconv.FormatInt(q.Since.UnixMilli(), 10) + "-0"
	}
	if q.After != "" {
		lo = "(" + q.After
	}
	if !q.Until.IsZero() {
		hi = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10) + "-0"
	}
	const page = 500
	out := []Entry{}
	for {
		var msgs []redis.XMessage
		var err error
		if q.Newest {
			msgs, err = s.rdb.XRevRangeN(ctx, k.changes, hi, lo, page).Result()
		} else {
			msgs, err = s.rdb.XRangeN(ctx, k.changes, lo, hi, page).Result()
		}
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			e, err := parseEntry(m)
			if err != nil {
				return nil, err
			}
			if q.matches(&e) {
				out = append(out, e)
				if len(out) == q.Limit {
					return out, nil
				}
			}
		}
		if len(msgs) < page {
			return out, nil
		}
		if q.Newest {
			hi = "(" + msgs[len(msgs)-1].ID
		} else {
			lo = "(" + msgs[len(msgs)-1].ID
		}
	}
}

func (q *Query) matches(e *Entry) bool {
	if q.Actor != "" && e.Actor != q.Actor {
		return false
	}
	if q.Flag != "" && !e.Touches(Flags, q.Flag) && !e.Touches(Archived, q.Flag) && !e.Touches(Plans, q.Flag) {
		return false
	}
	if q.Segment != "" && !e.Touches(Segments, q.Segment) {
		return false
	}
	return true
}
