package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// State is an environment as read at one version, and the edits a change makes to it. Edits
// stay in memory until Apply writes them, all or nothing.
type State struct {
	Env     string
	Version uint64
	raw     [len(collections)]map[string][]byte
	edits   [len(collections)]map[string][]byte // nil value: deleted
	// corrupt records a stored document that does not decode; Apply refuses to go on.
	corrupt error
}

// Read returns an environment's state, consistent at one version (one MULTI/EXEC).
func (s *Store) Read(ctx context.Context, env string) (*State, error) {
	if CheckEnvironmentKey(env) != nil {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	k := keysOf(env)
	var exists *redis.IntCmd
	var version *redis.StringCmd
	var colls [len(collections)]*redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, k.meta)
		version = p.Get(ctx, k.version)
		for i := range colls {
			colls[i] = p.HGetAll(ctx, k.coll[i])
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	st := &State{Env: env}
	st.Version, _ = strconv.ParseUint(version.Val(), 10, 64)
	for i, c := range colls {
		st.raw[i] = make(map[string][]byte, len(c.Val()))
		for key, doc := range c.Val() {
			st.raw[i][key] = []byte(doc)
		}
	}
	return st, nil
}

// ReadKey returns a partial state: the version and the documents named key in the given
// collections, read consistently (one MULTI/EXEC) without reading the rest of the environment.
// For reads of one document; Keys and Docs of a partial state see only what was read, so
// changes always go through Apply, which reads everything.
func (s *Store) ReadKey(ctx context.Context, env, key string, colls ...string) (*State, error) {
	if CheckEnvironmentKey(env) != nil {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	k := keysOf(env)
	var exists *redis.IntCmd
	var version *redis.StringCmd
	docs := make([]*redis.StringCmd, len(colls))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, k.meta)
		version = p.Get(ctx, k.version)
		for i, c := range colls {
			docs[i] = p.HGet(ctx, k.coll[collIndex(c)], key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	st := &State{Env: env}
	st.Version, _ = strconv.ParseUint(version.Val(), 10, 64)
	for i := range st.raw {
		st.raw[i] = map[string][]byte{}
	}
	for i, c := range colls {
		if doc, err := docs[i].Bytes(); err == nil {
			st.raw[collIndex(c)][key] = doc
		}
	}
	return st, nil
}

// Raw returns the current JSON of a document (edits included), or nil.
func (st *State) Raw(coll, key string) []byte {
	i := collIndex(coll)
	if doc, ok := st.edits[i][key]; ok {
		return doc
	}
	return st.raw[i][key]
}

// Has reports whether a document exists.
func (st *State) Has(coll, key string) bool { return st.Raw(coll, key) != nil }

// Get decodes a document into v (a pointer to its flagdoc type); false when there is none.
// v is a copy: changes to it count only once Put.
func (st *State) Get(coll, key string, v any) bool {
	doc := st.Raw(coll, key)
	if doc == nil {
		return false
	}
	if err := json.Unmarshal(doc, v); err != nil {
		// Every stored document passed Decode and Validate: someone wrote to Redis directly.
		st.corrupt = fmt.Errorf("store: %s/%s in %s is not a valid document: %v", coll, key, st.Env, err)
		return false
	}
	return true
}

// Put sets a document.
func (st *State) Put(coll, key string, v any) { st.set(coll, key, flagdoc.Marshal(v)) }

// Delete removes a document (nothing if there is none).
func (st *State) Delete(coll, key string) { st.set(coll, key, nil) }

func (st *State) set(coll, key string, doc []byte) {
	i := collIndex(coll)
	if st.edits[i] == nil {
		st.edits[i] = map[string][]byte{}
	}
	st.edits[i][key] = doc
}

// Keys lists the keys of a collection, edits included, sorted.
func (st *State) Keys(coll string) []string {
	i := collIndex(coll)
	keys := make([]string, 0, len(st.raw[i]))
	for k := range st.raw[i] {
		if doc, edited := st.edits[i][k]; !edited || doc != nil {
			keys = append(keys, k)
		}
	}
	for k, doc := range st.edits[i] {
		if _, had := st.raw[i][k]; !had && doc != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Docs returns a collection's documents sorted by key, edits included.
func (st *State) Docs(coll string) []flagdoc.Doc {
	keys := st.Keys(coll)
	docs := make([]flagdoc.Doc, len(keys))
	for i, k := range keys {
		docs[i] = flagdoc.Doc{Key: k, JSON: st.Raw(coll, k)}
	}
	return docs
}

// Snapshot assembles the snapshot of the state (edits included) at version.
func (st *State) Snapshot(version uint64) []byte {
	return flagdoc.Assemble(st.Env, version, st.Docs(Flags), st.Docs(Segments))
}

// edit is one effective document change.
type edit struct {
	coll          int
	key           string
	before, after []byte // nil: absent
}

// changes lists the edits that change something, in collection then key order.
func (st *State) changes() []edit {
	var out []edit
	for i, m := range st.edits {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			before, after := st.raw[i][k], m[k]
			if bytes.Equal(before, after) && (before == nil) == (after == nil) {
				continue
			}
			out = append(out, edit{coll: i, key: k, before: before, after: after})
		}
	}
	return out
}
