package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// What change-log followers (sync/follow) need beyond the store's own API: the stream's key for
// blocking reads, entry parsing, the environment list, and the per-environment client salt.

// ChangeLogKey is the Redis key of an environment's change log (a stream); followers read it
// with XREAD BLOCK from the last id they applied.
func ChangeLogKey(env string) string { return keysOf(env).changes }

// ParseEntry decodes one change-log stream entry read with XREAD or XRANGE.
func ParseEntry(m redis.XMessage) (Entry, error) { return parseEntry(m) }

// EnvironmentKeys lists the environments' keys (one SMEMBERS, unsorted).
func (s *Store) EnvironmentKeys(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, keyEnvironments).Result()
}

// clientSalt returns the environment's client salt, creating it (field clientSalt of the meta
// hash) on first use; false when the environment does not exist, so that a salt never
// resurrects a deleted environment's meta hash.
var clientSalt = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'clientSalt', ARGV[1])
return redis.call('HGET', KEYS[1], 'clientSalt')`)

// ClientSalt returns the salt with which an environment's browser-safe snapshots hash target
// and segment keys (model.HashKey). It is made once, at random, and kept in Redis, so every
// daemon writes the same hashes; it is public (it travels in the snapshot).
func (s *Store) ClientSalt(ctx context.Context, env string) (string, error) {
	if CheckEnvironmentKey(env) != nil {
		return "", fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	salt, err := clientSalt.Run(ctx, s.rdb, []string{keysOf(env).meta}, hex.EncodeToString(b[:])).Text()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("environment %q %w", env, ErrNotFound)
	}
	return salt, err
}
