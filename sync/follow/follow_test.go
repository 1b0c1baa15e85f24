package follow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vexil-flags/vexil/internal/redistest"
	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/follow"
	"github.com/vexil-flags/vexil/sync/store"
)

// published records what a follower publishes.
type published struct {
	mu    sync.Mutex
	views []*follow.View // nil: deleted
	ch    chan struct{}
}

func (p *published) add(env string, v *follow.View) {
	p.mu.Lock()
	p.views = append(p.views, v)
	p.mu.Unlock()
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

func (p *published) wait(t *testing.T, ok func(last *follow.View, n int) bool) *follow.View {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		var last *follow.View
		n := len(p.views)
		if n > 0 {
			last = p.views[n-1]
		}
		p.mu.Unlock()
		if n > 0 && ok(last, n) {
			return last
		}
		select {
		case <-p.ch:
		case <-deadline:
			t.Fatalf("follower did not get there; last published %v", last)
		}
	}
}

func setFlag(t *testing.T, st *store.Store, env, key, desc string) uint64 {
	t.Helper()
	res, err := st.Apply(context.Background(), store.Change{Env: env, Actor: "t", Action: "flag.update",
		Mutate: func(s *store.State) error {
			zero := 0
			s.Put(store.Flags, key, &flagdoc.Flag{Key: key, Description: desc, Enabled: true,
				Variations: []jsonRaw{jsonRaw("false"), jsonRaw("true")}, OffVariation: &zero, Fallthrough: &flagdoc.Serve{Variation: &zero}})
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Version
}

func setup(t *testing.T) (*redistest.Server, *store.Store, *follow.Follower, *published) {
	t.Helper()
	r := redistest.Start(t)
	st, err := store.Open(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, _, err := st.CreateEnvironment(context.Background(), "e", ""); err != nil {
		t.Fatal(err)
	}
	p := &published{ch: make(chan struct{}, 1)}
	f := follow.New(follow.Config{Store: st, Publish: p.add, Discover: 50 * time.Millisecond, Block: 200 * time.Millisecond})
	f.Start()
	t.Cleanup(f.Close)
	return r, st, f, p
}

func snapshotOf(t *testing.T, st *store.Store, env string) string {
	t.Helper()
	s, err := st.Read(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Snapshot(s.Version))
}

// Entries missing from the change log (trimmed) make the follower read the environment whole;
// it converges on exactly what Redis holds.
func TestGapInChangeLogRebuilds(t *testing.T) {
	_, st, f, p := setup(t)
	ctx := context.Background()
	v := setFlag(t, st, "e", "a", "one")
	last := p.wait(t, func(l *follow.View, _ int) bool { return l.Version == v })
	if last.At.IsZero() && v > 1 {
		t.Fatal("an incremental view has no change time")
	}
	// Two changes written as the store writes them, the first one's log entry trimmed away
	// before the follower could read it (XTRIM MAXLEN in the same transaction).
	rdb := st.Client()
	flags, version, log := "vexil:{e}:flags", "vexil:{e}:version", store.ChangeLogKey("e")
	_, err := rdb.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		for i, key := range []string{"b", "c"} {
			doc := fmt.Sprintf(`{"key":%q,"enabled":true,"variations":[false,true],"offVariation":0,"fallthrough":{"variation":0}}`, key)
			pp.HSet(ctx, flags, key, doc)
			pp.Incr(ctx, version)
			pp.XAdd(ctx, &redis.XAddArgs{Stream: log, Values: []any{"version", fmt.Sprint(v + 1 + uint64(i)), "time", time.Now().UTC().Format(time.RFC3339Nano),
				"actor", "t", "action", "flag.create", "subject", "flags/" + key,
				"before", `{"flags":{"` + key + `":null}}`, "after", `{"flags":{"` + key + `":` + doc + `}}`}})
		}
		pp.XTrimMaxLen(ctx, log, 1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last = p.wait(t, func(l *follow.View, _ int) bool { return l.Version == v+2 })
	if !last.At.IsZero() {
		t.Fatal("the view after a gap was not read whole")
	}
	if got, want := string(last.JSON()), snapshotOf(t, st, "e"); got != want {
		t.Fatalf("after the gap:\n got %s\nwant %s", got, want)
	}
	if cur := f.Current("e"); cur != last {
		t.Fatal("Current is not the last published view")
	}
	// Incremental again afterwards.
	v = setFlag(t, st, "e", "a", "two")
	last = p.wait(t, func(l *follow.View, _ int) bool { return l.Version == v })
	if last.At.IsZero() || string(last.JSON()) != snapshotOf(t, st, "e") {
		t.Fatalf("after the gap, incremental view %s", last.JSON())
	}
	// Versions published only ever grow.
	p.mu.Lock()
	for i := 1; i < len(p.views); i++ {
		if p.views[i].Version <= p.views[i-1].Version {
			t.Errorf("published version %d after %d", p.views[i].Version, p.views[i-1].Version)
		}
	}
	p.mu.Unlock()
}

func TestNewAndDeletedEnvironments(t *testing.T) {
	_, st, f, p := setup(t)
	ctx := context.Background()
	if _, err := f.View(ctx, "nope"); err == nil {
		t.Fatal("View of a missing environment succeeded")
	}
	if _, _, err := st.CreateEnvironment(ctx, "later", ""); err != nil {
		t.Fatal(err)
	}
	v := setFlag(t, st, "later", "x", "hello")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		view, err := f.View(wctx, "later")
		if err != nil {
			t.Fatal(err)
		}
		if view.Version == v {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := st.DeleteEnvironment(ctx, "later"); err != nil {
		t.Fatal(err)
	}
	p.wait(t, func(l *follow.View, _ int) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.views[len(p.views)-1] == nil
	})
	if f.Current("later") != nil {
		t.Fatal("a deleted environment is still followed")
	}
}

// The browser-safe view keeps only client-side flags and the segments they use, hashed.
func TestClientViewSalt(t *testing.T) {
	_, st, f, _ := setup(t)
	ctx := context.Background()
	salt1, err := st.ClientSalt(ctx, "e")
	if err != nil || len(salt1) != 32 {
		t.Fatalf("salt %q: %v", salt1, err)
	}
	if salt2, _ := st.ClientSalt(ctx, "e"); salt2 != salt1 {
		t.Fatal("the salt changed")
	}
	if _, err := st.ClientSalt(ctx, "missing"); err == nil {
		t.Fatal("salt of a missing environment")
	}
	if n, _ := st.Client().Exists(ctx, "vexil:{missing}:meta").Result(); n != 0 {
		t.Fatal("asking for a salt created a meta hash")
	}
	v, err := f.View(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	if v.Salt != salt1 || v.ClientView().Salt != salt1 || !v.ClientView().Client {
		t.Fatalf("view salt %q", v.Salt)
	}
}

type jsonRaw = json.RawMessage
