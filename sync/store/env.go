package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vexil-flags/vexil/sync/auth"
)

// Environment describes one environment.
type Environment struct {
	Key         string `json:"key"`
	Description string `json:"description,omitempty"`
	CreatedAt   string `json:"createdAt"`
	Version     uint64 `json:"version"`
	Flags       int64  `json:"flags"`
	Segments    int64  `json:"segments"`
	Archived    int64  `json:"archived"`
}

// SDKKeys are an environment's current SDK keys.
type SDKKeys struct {
	Server string `json:"server"`
	Client string `json:"client"`
}

// createEnv sets up an environment's keys if its meta hash does not exist yet. The version key
// is kept across a delete, so a re-created environment continues its numbering and a host never
// sees a version go backwards.
var createEnv = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'key', ARGV[1], 'description', ARGV[2], 'createdAt', ARGV[3])
redis.call('SETNX', KEYS[2], '0')
redis.call('HSET', KEYS[3], 'server', ARGV[4], 'client', ARGV[5])
return 1`)

// CreateEnvironment creates an environment with fresh SDK keys; ErrExists if it exists.
func (s *Store) CreateEnvironment(ctx context.Context, key, description string) (Environment, SDKKeys, error) {
	if err := CheckEnvironmentKey(key); err != nil {
		return Environment{}, SDKKeys{}, err
	}
	k := keysOf(key)
	keys := SDKKeys{Server: auth.NewSDKKey(auth.ServerKey), Client: auth.NewSDKKey(auth.ClientKey)}
	now := time.Now().UTC().Format(time.RFC3339)
	ok, err := createEnv.Run(ctx, s.rdb, []string{k.meta, k.version, k.sdk}, key, description, now, keys.Server, keys.Client).Int()
	if err != nil {
		return Environment{}, SDKKeys{}, err
	}
	if ok == 0 {
		return Environment{}, SDKKeys{}, fmt.Errorf("environment %q %w", key, ErrExists)
	}
	// The global list and index live in other slots, so they are written after the
	// environment; both writes are idempotent and repeated by RotateSDKKey and Environments.
	if err := s.index(ctx, key, keys); err != nil {
		return Environment{}, SDKKeys{}, err
	}
	env, err := s.Environment(ctx, key)
	return env, keys, err
}

func (s *Store) index(ctx context.Context, env string, keys SDKKeys) error {
	if err := s.rdb.SAdd(ctx, keyEnvironments, env).Err(); err != nil {
		return err
	}
	return s.rdb.HSet(ctx, keySDKIndex,
		auth.KeyID(keys.Server), env+" "+auth.ServerKey,
		auth.KeyID(keys.Client), env+" "+auth.ClientKey).Err()
}

// Environment returns one environment; ErrNotFound if there is none.
func (s *Store) Environment(ctx context.Context, key string) (Environment, error) {
	if CheckEnvironmentKey(key) != nil {
		return Environment{}, fmt.Errorf("environment %q %w", key, ErrNotFound)
	}
	k := keysOf(key)
	var meta *redis.MapStringStringCmd
	var version *redis.StringCmd
	var counts [3]*redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, k.meta)
		version = p.Get(ctx, k.version)
		for i := range counts {
			counts[i] = p.HLen(ctx, k.coll[i])
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Environment{}, err
	}
	m := meta.Val()
	if len(m) == 0 {
		return Environment{}, fmt.Errorf("environment %q %w", key, ErrNotFound)
	}
	v, _ := strconv.ParseUint(version.Val(), 10, 64)
	return Environment{Key: key, Description: m["description"], CreatedAt: m["createdAt"], Version: v,
		Flags: counts[0].Val(), Segments: counts[1].Val(), Archived: counts[2].Val()}, nil
}

// Environments lists every environment, by key.
func (s *Store) Environments(ctx context.Context) ([]Environment, error) {
	names, err := s.rdb.SMembers(ctx, keyEnvironments).Result()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := []Environment{}
	for _, n := range names {
		env, err := s.Environment(ctx, n)
		if errors.Is(err, ErrNotFound) {
			continue // deleted between the two writes of DeleteEnvironment
		}
		if err != nil {
			return nil, err
		}
		out = append(out, env)
	}
	return out, nil
}

var deleteEnv = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local keys = redis.call('HMGET', KEYS[2], 'server', 'client')
for i = 1, #KEYS do if i ~= 3 then redis.call('DEL', KEYS[i]) end end
return keys`)

// DeleteEnvironment removes an environment with all its flags, segments, plans, change log
// and SDK keys. Its version counter stays (see createEnv).
func (s *Store) DeleteEnvironment(ctx context.Context, key string) error {
	if CheckEnvironmentKey(key) != nil {
		return fmt.Errorf("environment %q %w", key, ErrNotFound)
	}
	k := keysOf(key)
	keys := append([]string{k.meta, k.sdk, k.version, k.changes}, k.coll[:]...)
	res, err := deleteEnv.Run(ctx, s.rdb, keys).Slice()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("environment %q %w", key, ErrNotFound)
	}
	if err != nil {
		return err
	}
	for _, v := range res {
		if sk, ok := v.(string); ok {
			s.rdb.HDel(ctx, keySDKIndex, auth.KeyID(sk))
		}
	}
	return s.rdb.SRem(ctx, keyEnvironments, key).Err()
}

// SDKKeys returns an environment's SDK keys.
func (s *Store) SDKKeys(ctx context.Context, env string) (SDKKeys, error) {
	if CheckEnvironmentKey(env) != nil {
		return SDKKeys{}, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	m, err := s.rdb.HGetAll(ctx, keysOf(env).sdk).Result()
	if err != nil {
		return SDKKeys{}, err
	}
	if len(m) == 0 {
		return SDKKeys{}, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	return SDKKeys{Server: m["server"], Client: m["client"]}, nil
}

var rotateKey = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local old = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return old or ''`)

// RotateSDKKey replaces an environment's server or client key; the old key stops working at
// once. It returns the new keys.
func (s *Store) RotateSDKKey(ctx context.Context, env, kind string) (SDKKeys, error) {
	if kind != auth.ServerKey && kind != auth.ClientKey {
		return SDKKeys{}, fmt.Errorf("key kind %q: want server or client", kind)
	}
	if CheckEnvironmentKey(env) != nil {
		return SDKKeys{}, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	k := keysOf(env)
	fresh := auth.NewSDKKey(kind)
	old, err := rotateKey.Run(ctx, s.rdb, []string{k.meta, k.sdk}, kind, fresh).Text()
	if errors.Is(err, redis.Nil) {
		return SDKKeys{}, fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	if err != nil {
		return SDKKeys{}, err
	}
	if old != "" {
		s.rdb.HDel(ctx, keySDKIndex, auth.KeyID(old))
	}
	keys, err := s.SDKKeys(ctx, env)
	if err != nil {
		return keys, err
	}
	return keys, s.index(ctx, env, keys)
}

// LookupSDKKey returns the environment and kind an SDK key belongs to; ErrNotFound for an
// unknown or rotated key. The index is found by the key's digest, then the key itself is
// compared in constant time with the environment's current one.
func (s *Store) LookupSDKKey(ctx context.Context, key string) (env, kind string, err error) {
	v, err := s.rdb.HGet(ctx, keySDKIndex, auth.KeyID(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", fmt.Errorf("sdk key %w", ErrNotFound)
	}
	if err != nil {
		return "", "", err
	}
	env, kind, _ = strings.Cut(v, " ")
	keys, err := s.SDKKeys(ctx, env)
	if err != nil {
		return "", "", err
	}
	current := keys.Server
	if kind == auth.ClientKey {
		current = keys.Client
	}
	if !auth.Equal(current, key) {
		return "", "", fmt.Errorf("sdk key %w", ErrNotFound)
	}
	return env, kind, nil
}
