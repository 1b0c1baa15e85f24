package store

import (
	"fmt"
	"regexp"
)

// Key layout (documented in sync/REDIS.md). Every key of one environment carries the hash tag
// {env}, so Redis Cluster keeps an environment in one slot and one script can change it
// atomically. Only the environment list and the SDK key index are global.
const (
	keyEnvironments = "vexil:environments" // set of environment keys
	keySDKIndex     = "vexil:sdkkeys"      // hash: sha256(sdk key) → "env kind"
)

// Collections: the hashes of documents in an environment, keyed by document key.
const (
	Flags    = "flags"    // flag documents (snapshot format); these are the snapshot
	Segments = "segments" // segment documents (snapshot format); these too
	Archived = "archived" // archived flag documents: kept, but not in snapshots
	Plans    = "plans"    // staged rollout plans, by flag key
)

var collections = [...]string{Flags, Segments, Archived, Plans}

type envKeys struct {
	meta, version, changes, sdk string
	coll                        [len(collections)]string
}

func keysOf(env string) envKeys {
	p := "vexil:{" + env + "}:"
	k := envKeys{meta: p + "meta", version: p + "version", changes: p + "changes", sdk: p + "sdkkeys"}
	for i, c := range collections {
		k.coll[i] = p + c
	}
	return k
}

// all lists the keys a change script touches: meta, version, changes, then the collections.
func (k envKeys) all() []string {
	return append([]string{k.meta, k.version, k.changes}, k.coll[:]...)
}

func collIndex(c string) int {
	for i, x := range collections {
		if x == c {
			return i
		}
	}
	panic("store: unknown collection " + c)
}

var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// CheckEnvironmentKey reports whether key can name an environment: 1–63 of a–z, 0–9, '_', '.',
// '-', starting with a letter or digit. Braces would break the hash tag, so they never pass.
func CheckEnvironmentKey(key string) error {
	if !envName.MatchString(key) {
		return fmt.Errorf("want 1–63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit")
	}
	return nil
}
