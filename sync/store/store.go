// Package store keeps Vexil's flag state in Redis, the source of truth: environments, their
// flag and segment documents (snapshot format, one per hash field), archived flags, staged
// rollout plans, SDK keys, and a change log per environment (a Redis stream).
//
// Every change is one atomic unit, run by one Lua script: the version check, the document
// writes, the environment version increment and the change-log entry (actor, time, version,
// before, after). Changes are optimistic: Apply reads the environment at version V, lets the
// caller mutate it, validates the whole candidate environment with the engine, and the script
// writes only if the version is still V. A caller that sent If-Match gets ErrStale on any
// intervening change; one that did not is retried on a fresh read.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Errors of the store; wrapped with the detail (which flag, which version).
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrStale    = errors.New("version is stale")
	ErrBusy     = errors.New("too many concurrent changes, try again")
)

// Store is the Redis store. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	// keep bounds each environment's change log to its newest entries; 0 keeps them all.
	keep int64
}

// KeepChanges bounds each environment's change log to its n newest entries (0, the default,
// keeps every entry): each change trims its log as it appends. The audit then reaches back n
// changes, and a follower resuming from a trimmed entry reads its environment whole (as it
// does after any gap), so nothing a host needs is lost. Call it before the store is used.
func (s *Store) KeepChanges(n int64) { s.keep = max(n, 0) }

// New wraps a connected client.
func New(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// Open connects to Redis by URL:
//
//	redis://[user:pass@]host:port[/db]               one server (rediss:// for TLS)
//	redis-sentinel://[user:pass@]host:port?master_name=NAME[&addr=host:port...]   Sentinel (rediss-sentinel://)
//	redis-cluster://[user:pass@]host:port[?addr=host:port...]   Cluster (rediss-cluster://)
//
// Query parameters are go-redis's (dial_timeout, pool_size, ...). Open does not dial; use Ping.
func Open(rawURL string) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	base, mode, _ := strings.Cut(u.Scheme, "-")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("redis URL: unknown scheme %q (redis, rediss, redis-sentinel, redis-cluster)", u.Scheme)
	}
	u.Scheme = base
	var rdb redis.UniversalClient
	switch mode {
	case "":
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		rdb = redis.NewClient(o)
	case "sentinel":
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		if o.MasterName == "" {
			return nil, fmt.Errorf("redis URL: a Sentinel URL needs ?master_name=NAME")
		}
		rdb = redis.NewFailoverClient(o)
	case "cluster":
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis URL: %w", err)
		}
		rdb = redis.NewClusterClient(o)
	default:
		return nil, fmt.Errorf("redis URL: unknown scheme %q (redis, rediss, redis-sentinel, redis-cluster)", u.Scheme+"-"+mode)
	}
	return New(rdb), nil
}

// Client returns the Redis client, for the parts of the daemon that follow change logs.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Close closes the connections.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
