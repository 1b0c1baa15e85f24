package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

func TestOpenURLs(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://u:p@h:6380", "redis-sentinel://h:26379?master_name=m&addr=h2:26379", "redis-cluster://h:7000?addr=h:7001"} {
		s, err := store.Open(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		_ = s.Close()
	}
	for _, u := range []string{"http://h", "redis-magic://h", "redis-sentinel://h:1"} {
		if _, err := store.Open(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func newStore(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	r := redistest.Start(t)
	s, err := store.Open(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if _, _, err := s.CreateEnvironment(ctx, "e", ""); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}

func flag(key string) *flagdoc.Flag {
	zero := 0
	return &flagdoc.Flag{Key: key, Variations: []json.RawMessage{json.RawMessage("true")}, Fallthrough: &flagdoc.Serve{Variation: &zero}}
}

// Changes without If-Match that race are retried on fresh reads: none is lost.
func TestConcurrentChangesLoseNothing(t *testing.T) {
	s, ctx := newStore(t)
	if _, err := s.Apply(ctx, store.Change{Env: "e", Action: "t", Mutate: func(st *store.State) error {
		st.Put(store.Flags, "f", flag("f"))
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				user := fmt.Sprintf("u%d-%d", w, i)
				_, err := s.Apply(ctx, store.Change{Env: "e", Action: "pin", Mutate: func(st *store.State) error {
					var f flagdoc.Flag
					st.Get(store.Flags, "f", &f)
					if err := f.Pin([]string{user}, 0); err != nil {
						return err
					}
					st.Put(store.Flags, "f", &f)
					return nil
				}})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Read(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	var f flagdoc.Flag
	st.Get(store.Flags, "f", &f)
	if st.Version != 1+writers*each || len(f.Targets[0].Values) != writers*each {
		t.Fatalf("version %d, %d users pinned; want %d and %d", st.Version, len(f.Targets[0].Values), 1+writers*each, writers*each)
	}
}

// A refused change (by Mutate or by validation) writes nothing.
func TestRefusedChangeWritesNothing(t *testing.T) {
	s, ctx := newStore(t)
	boom := errors.New("boom")
	_, err := s.Apply(ctx, store.Change{Env: "e", Mutate: func(st *store.State) error {
		st.Put(store.Flags, "a", flag("a"))
		return boom
	}})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	bad := flag("b")
	bad.Prerequisites = []flagdoc.Prerequisite{{Flag: "nope", Variations: []int{0}}}
	_, err = s.Apply(ctx, store.Change{Env: "e", Subject: flagdoc.Subject{Collection: store.Flags, Key: "b"}, Mutate: func(st *store.State) error {
		st.Put(store.Flags, "a", flag("a"))
		st.Put(store.Flags, "b", bad)
		return nil
	}})
	var fe *flagdoc.Error
	if !errors.As(err, &fe) || fe.Fields[0].Field != "prerequisites[0].flag" {
		t.Fatalf("validation: %v", err)
	}
	env, _ := s.Environment(ctx, "e")
	entries, _ := s.Changes(ctx, "e", store.Query{})
	if env.Version != 0 || env.Flags != 0 || len(entries) != 0 {
		t.Fatalf("refused changes wrote: %+v, %d entries", env, len(entries))
	}
	if _, err := s.Apply(ctx, store.Change{Env: "nope", Mutate: func(*store.State) error { return nil }}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown env: %v", err)
	}
	stale := uint64(7)
	if _, err := s.Apply(ctx, store.Change{Env: "e", IfMatch: &stale, Mutate: func(*store.State) error { return nil }}); !errors.Is(err, store.ErrStale) {
		t.Fatalf("stale: %v", err)
	}
	if err := store.CheckEnvironmentKey("{prod}"); err == nil || !strings.Contains(err.Error(), "a-z") {
		t.Fatalf("hash-tag braces accepted: %v", err)
	}
}

// The store works on Redis Cluster: every script and transaction of an environment stays in
// its hash-tagged slot (Cluster would answer CROSSSLOT otherwise).
func TestCluster(t *testing.T) {
	r := redistest.StartCluster(t)
	s, err := store.Open(r.ClusterURL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, env := range []string{"production", "staging"} { // two environments, two slots
		if _, _, err := s.CreateEnvironment(ctx, env, ""); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			key := fmt.Sprintf("f%d", i)
			if _, err := s.Apply(ctx, store.Change{Env: env, Action: "t", Mutate: func(st *store.State) error {
				st.Put(store.Flags, key, flag(key))
				return nil
			}}); err != nil {
				t.Fatalf("%s: %v", env, err)
			}
		}
		if _, err := s.RotateSDKKey(ctx, env, "client"); err != nil {
			t.Fatal(err)
		}
		entries, err := s.Changes(ctx, env, store.Query{})
		e, _ := s.Environment(ctx, env)
		if err != nil || len(entries) != 3 || e.Version != 3 || e.Flags != 3 {
			t.Fatalf("%s: %+v, %d entries, %v", env, e, len(entries), err)
		}
	}
	if envs, err := s.Environments(ctx); err != nil || len(envs) != 2 {
		t.Fatalf("environments: %+v %v", envs, err)
	}
	if err := s.DeleteEnvironment(ctx, "staging"); err != nil {
		t.Fatal(err)
	}
}

// The store works through Sentinel (a redis-sentinel:// URL) and follows a failover: with
// the master killed, the sentinel promotes the replica, and the same Store writes to it and
// reads everything written before (the test waits for replication first: Redis replicates
// asynchronously, so a failover can lose the last acknowledged writes otherwise).
func TestSentinelFailover(t *testing.T) {
	d := redistest.StartSentinel(t)
	s, err := store.Open(d.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	put := func(key string) error {
		_, err := s.Apply(ctx, store.Change{Env: "production", Action: "t", Mutate: func(st *store.State) error {
			st.Put(store.Flags, key, flag(key))
			return nil
		}})
		return err
	}
	if _, _, err := s.CreateEnvironment(ctx, "production", ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := put(fmt.Sprintf("before-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.Synced()
	d.Master.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for d.MasterAddr() != d.Replica.Addr {
		if time.Now().After(deadline) {
			t.Fatalf("no failover within 30s: the sentinel names %q", d.MasterAddr())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The client finds the new master through the sentinel; the first commands after the
	// switch may still fail on a stale connection.
	for err := put("after"); err != nil; err = put("after") {
		if time.Now().After(deadline) {
			t.Fatalf("write after failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	e, err := s.Environment(ctx, "production")
	if err != nil || e.Flags != 4 || e.Version != 4 {
		t.Fatalf("after failover: %+v %v (want 4 flags at version 4)", e, err)
	}
	entries, err := s.Changes(ctx, "production", store.Query{})
	if err != nil || len(entries) != 4 {
		t.Fatalf("change log after failover: %d entries, %v", len(entries), err)
	}
}

// KeepChanges bounds the change log: each change trims it to the newest n entries, so the
// log holds exactly the last n changes, in order, while versions keep counting.
func TestKeepChanges(t *testing.T) {
	r := redistest.Start(t)
	s, err := store.Open(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.KeepChanges(5)
	ctx := context.Background()
	if _, _, err := s.CreateEnvironment(ctx, "production", ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		key := fmt.Sprintf("f%d", i)
		if _, err := s.Apply(ctx, store.Change{Env: "production", Action: "t", Mutate: func(st *store.State) error {
			st.Put(store.Flags, key, flag(key))
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.Changes(ctx, "production", store.Query{})
	if err != nil || len(entries) != 5 {
		t.Fatalf("%d entries, %v; want the newest 5", len(entries), err)
	}
	for i, e := range entries {
		if e.Version != uint64(8+i) {
			t.Fatalf("entry %d has version %d, want %d", i, e.Version, 8+i)
		}
	}
	if e, err := s.Environment(ctx, "production"); err != nil || e.Version != 12 || e.Flags != 12 {
		t.Fatalf("environment %+v %v", e, err)
	}
}
