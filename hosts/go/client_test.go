package vexil

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/hosts/go/internal/offline"
)

// testSnapshot renders a small snapshot at a version: "checkout" is on for plan pro from
// version 2 on (its rule serves checkoutVariation), "banner" is a static string, "limit" a
// number, "layout" JSON, "beta" targets user-7 and is in segment "staff".
func testSnapshot(version int, checkoutVariation int) []byte {
	return []byte(`{"environment": "test", "version": ` + itoa(int64(version)) + `, "flags": [
	 {"key": "checkout", "enabled": true, "variations": [false, true], "offVariation": 0,
	  "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": ` + itoa(int64(checkoutVariation)) + `}],
	  "fallthrough": {"variation": 0}},
	 {"key": "banner", "enabled": true, "variations": ["hello", "bye"], "fallthrough": {"variation": 0}},
	 {"key": "limit", "enabled": true, "variations": [10, 2.5], "fallthrough": {"variation": 0},
	  "rules": [{"id": "fraction", "clauses": [{"attribute": "plan", "op": "in", "values": ["free"]}], "variation": 1}]},
	 {"key": "layout", "enabled": false, "variations": [{"cols": 2}, {"cols": 3}], "offVariation": 1, "fallthrough": {"variation": 0}},
	 {"key": "beta", "enabled": true, "variations": [false, true], "targets": [{"variation": 1, "values": ["user-7"]}],
	  "rules": [{"id": "staff", "clauses": [{"op": "inSegment", "values": ["staff"]}], "variation": 1}],
	  "fallthrough": {"variation": 0}}
	], "segments": [{"key": "staff", "included": ["user-1"]}]}`)
}

var pro = Context{TargetingKey: "user-42", Attributes: map[string]any{"plan": "pro"}}

// writeFile replaces path atomically, as a deploy tool would.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTypedGettersAndDetails(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			c := newClient(t, e, WithSnapshot(testSnapshot(1, 1)))
			if st := c.Status(); st.State != StateReady || st.Version != 1 {
				t.Fatalf("status %+v, want READY at version 1", st)
			}
			h := c.For(pro)
			if v, d := h.BoolDetail("checkout", false); !v || d.Reason != ReasonTargetingMatch || d.RuleID != "pro" || d.Variation != 1 || d.Err != nil || d.Version != 1 {
				t.Errorf("checkout: %v %+v", v, d)
			}
			if v, d := h.StringDetail("banner", "x"); v != "hello" || d.Reason != ReasonStatic || d.ValueJSON != `"hello"` {
				t.Errorf("banner: %q %+v", v, d)
			}
			if v := h.Int("limit", -1); v != 10 {
				t.Errorf("limit as int: %d", v)
			}
			if v := h.Float("limit", -1); v != 10 {
				t.Errorf("limit as float: %v", v)
			}
			if v, d := h.JSONDetail("layout", nil); string(v) != `{"cols":3}` || d.Reason != ReasonDisabled {
				t.Errorf("layout: %s %+v", v, d)
			}
			// An integer check of a value with a fraction serves the default: TYPE_MISMATCH.
			free := c.For(Context{TargetingKey: "u", Attributes: map[string]any{"plan": "free"}})
			if v, d := free.IntDetail("limit", -1); v != -1 || d.ErrorCode != ErrorTypeMismatch || d.Reason != ReasonError {
				t.Errorf("limit 2.5 as int: %d %+v", v, d)
			}
			if v := free.Float("limit", -1); v != 2.5 {
				t.Errorf("limit 2.5 as float: %v", v)
			}
			// Type mismatch, on a static flag (host-side) and on an evaluated one.
			for _, key := range []string{"banner", "checkout"} {
				if v, d := h.IntDetail(key, 7); v != 7 || d.ErrorCode != ErrorTypeMismatch || d.Err == nil ||
					!strings.Contains(d.Err.Error(), key) {
					t.Errorf("%s as int: %d %+v", key, v, d)
				}
			}
			if v, d := h.BoolDetail("nope", true); !v || d.ErrorCode != ErrorFlagNotFound || !strings.Contains(d.Err.Error(), `"nope"`) {
				t.Errorf("unknown flag: %v %+v", v, d)
			}
			// Targets and segments through the targeting key.
			if !c.Bool(Context{TargetingKey: "user-7"}, "beta", false) || !c.Bool(Context{TargetingKey: "user-1"}, "beta", false) ||
				c.Bool(Context{TargetingKey: "user-2"}, "beta", false) {
				t.Error("beta: targets or segment not applied")
			}
			// The targeting key may come as an attribute (OpenFeature's flattened context).
			if !c.Bool(Context{Attributes: map[string]any{"targetingKey": "user-7"}}, "beta", false) {
				t.Error("beta: targetingKey attribute not used")
			}
			// Times compare as epoch milliseconds.
			timed := newClient(t, e, WithSnapshot([]byte(`{"environment": "t", "version": 1, "flags": [{"key": "new-account",
			  "enabled": true, "variations": [false, true], "fallthrough": {"variation": 0},
			  "rules": [{"clauses": [{"attribute": "signup", "op": "after", "values": ["2026-01-01T00:00:00Z"]}], "variation": 1}]}]}`)))
			for signup, want := range map[time.Time]bool{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC): true, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC): false} {
				if got := timed.Bool(Context{Attributes: map[string]any{"signup": signup}}, "new-account", !want); got != want {
					t.Errorf("signup %v: %v, want %v", signup, got, want)
				}
			}
			// Lists as []any (JSON-decoded contexts) and numbers of any Go type.
			if c.Bool(Context{Attributes: map[string]any{"plan": "pro", "groups": []any{"a"}, "n": int8(3)}}, "checkout", false) != true {
				t.Error("checkout with []any and int8 attributes")
			}
		})
	}
}

func TestInvalidContext(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			c := newClient(t, e, WithSnapshot(testSnapshot(1, 1)))
			for name, v := range map[string]any{"address": map[string]any{"city": "x"}, "ids": []int{1}, "none": nil, "mixed": []any{"a", 1}} {
				h := c.For(Context{TargetingKey: "u", Attributes: map[string]any{"plan": "pro", name: v}})
				// Static flags too: a context that cannot be used fails every check alike.
				for _, key := range []string{"checkout", "banner"} {
					got, d := h.StringDetail(key, "def")
					var ce *ContextError
					if got != "def" || d.ErrorCode != ErrorInvalidContext || !errors.As(d.Err, &ce) || ce.Attribute != name {
						t.Errorf("%s=%v, flag %s: %q %+v", name, v, key, got, d)
					}
				}
				if a := h.All(); a.Err() == nil || a.Len() != 0 {
					t.Errorf("All with %s: %d flags, err %v", name, a.Len(), a.Err())
				}
			}
			h := c.For(Context{Attributes: map[string]any{"targetingKey": 42}})
			if _, d := h.BoolDetail("checkout", false); d.ErrorCode != ErrorInvalidContext || !strings.Contains(d.Err.Error(), "context.targetingKey: must be a string") {
				t.Errorf("numeric targetingKey: %+v", d)
			}
		})
	}
}

func TestAll(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			c := newClient(t, e, WithSnapshot(testSnapshot(3, 1)))
			a := c.For(pro).All()
			if a.Err() != nil || a.Len() != 5 || a.Version() != 3 {
				t.Fatalf("All: %d flags, version %d, err %v", a.Len(), a.Version(), a.Err())
			}
			js, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"checkout":true,"banner":"hello","limit":10,"layout":{"cols":3},"beta":false}`
			if string(js) != want {
				t.Errorf("All as JSON:\n got %s\nwant %s", js, want)
			}
			if d := a.Detail(0); a.Key(0) != "checkout" || d.RuleID != "pro" || d.Reason != ReasonTargetingMatch {
				t.Errorf("All detail 0: %s %+v", a.Key(0), d)
			}
			// Each flag agrees with its single check.
			h := c.For(pro)
			for i := range a.Len() {
				js, _ := a.Value(i)
				if v, d := h.JSONDetail(a.Key(i), nil); string(v) != js || d.Reason != a.Detail(i).Reason {
					t.Errorf("%s: All %s %s, single %s %s", a.Key(i), js, a.Detail(i).Reason, v, d.Reason)
				}
			}
		})
	}
}

// TestLiveFile is the README's promise: a flag check that updates live when the snapshot
// file changes, with OnChange naming the changed flags and versions, and STALE while the file
// is unreadable or unusable.
func TestLiveFile(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "flags.json")
			writeFile(t, path, testSnapshot(1, 0))
			c := newClient(t, e, WithSnapshotFile(path), WithPollInterval(10*time.Millisecond))
			changes := make(chan Change, 10)
			c.OnChange(func(ch Change) { changes <- ch })
			statuses := make(chan Status, 10)
			c.OnStatus(func(st Status) { statuses <- st })
			h := c.For(pro)
			if h.Bool("checkout", true) {
				t.Fatal("checkout on at version 1")
			}

			writeFile(t, path, testSnapshot(2, 1))
			select {
			case ch := <-changes:
				if !slices.Equal(ch.Keys, []string{"checkout"}) || ch.OldVersion != 1 || ch.NewVersion != 2 {
					t.Errorf("change %+v, want [checkout] 1 → 2", ch)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no change within 5s of rewriting the file")
			}
			if !h.Bool("checkout", false) {
				t.Error("the same handle still answers version 1")
			}

			// Unreadable: STALE, still answering version 2.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			st := waitStatus(t, statuses, StateStale)
			if st.Version != 2 || !strings.Contains(st.Reason, "flags.json") || st.Err == nil {
				t.Errorf("status after removal: %+v", st)
			}
			if !h.Bool("checkout", false) {
				t.Error("lost version 2 when the file went away")
			}
			// Unusable content: STALE with the engine's reason, version 2 kept.
			writeFile(t, path, []byte(`{"environment": "test"}`))
			st = waitStatus(t, statuses, StateStale)
			if st.Version != 2 || !strings.Contains(st.Reason, "unusable") || !strings.Contains(st.Reason, "version") {
				t.Errorf("status after a bad file: %+v", st)
			}
			// Back: READY again, and a segment change reaches the flags that use it.
			next := strings.Replace(string(testSnapshot(3, 1)), `"included": ["user-1"]`, `"included": ["user-1", "user-42"]`, 1)
			writeFile(t, path, []byte(next))
			waitStatus(t, statuses, StateReady)
			select {
			case ch := <-changes:
				if !slices.Equal(ch.Keys, []string{"beta"}) || ch.OldVersion != 2 || ch.NewVersion != 3 {
					t.Errorf("change %+v, want [beta] 2 → 3", ch)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no change for the segment edit")
			}
			if !h.Bool("beta", false) {
				t.Error("segment edit not applied")
			}
		})
	}
}

func waitStatus(t *testing.T, ch <-chan Status, want State) Status {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case st := <-ch:
			if st.State == want {
				return st
			}
		case <-timeout:
			t.Fatalf("no %s status within 5s", want)
		}
	}
}

// TestOfflineCache: the last good snapshot is kept on disk, atomically, and a client that
// starts while its source fails serves it (STALE), then goes READY when the source is back.
func TestOfflineCache(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			dir := t.TempDir()
			cache := filepath.Join(dir, "cache")
			path := filepath.Join(dir, "flags.json")
			writeFile(t, path, testSnapshot(5, 1))
			c := newClient(t, e, WithSnapshotFile(path), WithOfflineCache(cache), WithPollInterval(10*time.Millisecond))
			got, err := os.ReadFile(offline.Path(cache))
			if err != nil || string(got) != string(testSnapshot(5, 1)) {
				t.Fatalf("cache holds %q, %v", got, err)
			}
			_ = c.Close()
			if c.Bool(pro, "checkout", false) {
				t.Error("closed client served a value")
			}
			if _, d := c.BoolDetail(pro, "checkout", false); !errors.Is(d.Err, ErrClosed) {
				t.Errorf("closed client: %+v", d)
			}
			entries, _ := os.ReadDir(cache)
			if len(entries) != 1 {
				t.Errorf("cache dir holds %d entries, want only the snapshot (no temporary files)", len(entries))
			}

			// Source down at start: the cache serves, STALE, reason says so.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			c2 := newClient(t, e, WithSnapshotFile(path), WithOfflineCache(cache), WithPollInterval(10*time.Millisecond),
				WithBootstrap(testSnapshot(4, 0)))
			st := c2.Status()
			if st.State != StateStale || st.Version != 5 || !strings.Contains(st.Reason, "offline cache") || !strings.Contains(st.Reason, "flags.json") {
				t.Errorf("start from cache: %+v", st)
			}
			if !c2.Bool(pro, "checkout", false) {
				t.Error("cache not served")
			}
			// Source back with a newer snapshot: READY, converged.
			writeFile(t, path, testSnapshot(6, 0))
			waitFor(t, "READY at version 6", func() bool { s := c2.Status(); return s.State == StateReady && s.Version == 6 })
			if c2.Bool(pro, "checkout", true) {
				t.Error("version 6 not served")
			}
		})
	}
}

func TestBootstrapAndNotReady(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "missing.json")
			c := newClient(t, e, WithSnapshotFile(path), WithBootstrap(testSnapshot(9, 1)))
			if st := c.Status(); st.State != StateStale || st.Version != 9 || !strings.Contains(st.Reason, "bootstrap") {
				t.Errorf("bootstrap start: %+v", st)
			}
			if !c.Bool(pro, "checkout", false) {
				t.Error("bootstrap not served")
			}

			// Nothing at all: a usable client, an error saying why, defaults meanwhile.
			c2, err := New(context.Background(), WithEngine(e), WithCompilationCache(testCacheDir),
				WithSnapshotFile(path), WithPollInterval(10*time.Millisecond))
			var nr *NotReadyError
			if !errors.As(err, &nr) || c2 == nil || !strings.Contains(err.Error(), "missing.json") {
				t.Fatalf("New without any snapshot: %v, %v", c2, err)
			}
			defer c2.Close()
			if st := c2.Status(); st.State != StateError || st.Version != -1 {
				t.Errorf("status without snapshot: %+v", st)
			}
			if v, d := c2.BoolDetail(pro, "checkout", true); !v || d.ErrorCode != ErrorProviderNotReady || !errors.Is(d.Err, ErrNotReady) {
				t.Errorf("check without snapshot: %v %+v", v, d)
			}
			writeFile(t, path, testSnapshot(1, 1))
			waitFor(t, "READY once the file appears", func() bool { return c2.Status().State == StateReady })
			if !c2.Bool(pro, "checkout", false) {
				t.Error("snapshot not served after it appeared")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := New(context.Background())
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no source") {
		t.Errorf("no source: %v", err)
	}
	_, err = New(context.Background(), WithSnapshot([]byte("{}")), WithSnapshotFile("x"), WithPoolSize(0), WithPollInterval(-1))
	for _, want := range []string{"more than one source", "WithPoolSize", "WithPollInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad options: %v, want it to mention %s", err, want)
		}
	}
}

// TestKeyCache: checks by many keys — constants, fresh copies, keys colliding in the handle's
// lookup cache — each answer the flag they name, across snapshot swaps that reorder the flags
// (so a cached index that survived a swap would answer another flag).
func TestKeyCache(t *testing.T) {
	rotated := func(r int) []byte {
		var b strings.Builder
		b.WriteString(`{"environment": "t", "version": ` + itoa(int64(r+1)) + `, "flags": [`)
		for k := range 100 {
			i := (k + 37*r) % 100
			if k > 0 {
				b.WriteString(",")
			}
			// A rule keeps the flag off the host-side static path.
			b.WriteString(`{"key": "flag-` + itoa(int64(i)) + `", "enabled": true, "variations": ["v` + itoa(int64(i)) + `", "x"],
			  "rules": [{"clauses": [{"attribute": "plan", "op": "in", "values": ["none"]}], "variation": 1}], "fallthrough": {"variation": 0}}`)
		}
		b.WriteString("]}")
		return []byte(b.String())
	}
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "flag-" + itoa(int64(i))
	}
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			c := newClient(t, e, WithSnapshot(rotated(0)))
			h := c.For(pro)
			for round := range 3 {
				for pass := range 2 {
					for i, key := range keys {
						if pass == 1 {
							key = strings.Clone(key) // same contents, other bytes
						}
						if v, d := h.StringDetail(key, "default"); v != "v"+itoa(int64(i)) || d.Err != nil {
							t.Fatalf("round %d pass %d: %s answered %q, %v", round, pass, key, v, d.Err)
						}
					}
				}
				if _, d := h.BoolDetail("no-such-flag", false); d.ErrorCode != ErrorFlagNotFound {
					t.Errorf("unknown key: %+v", d)
				}
				if err := (sink{c}).Snapshot(rotated(round + 1)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSinkConfirm: what a daemon source will do after a 304 — Confirm the version the client
// serves (READY again), never another one; Current hands over the served document.
func TestSinkConfirm(t *testing.T) {
	c := newClient(t, EngineNative, WithSnapshot(testSnapshot(4, 1)))
	s := sink{c}
	if data, v := s.Current(); v != 4 || string(data) != string(testSnapshot(4, 1)) {
		t.Fatalf("Current: version %d, %d bytes", v, len(data))
	}
	s.Failure(errors.New("daemon unreachable"))
	if st := c.Status(); st.State != StateStale || !strings.Contains(st.Reason, "daemon unreachable") {
		t.Fatalf("after a failure: %+v", st)
	}
	s.Confirm(3)
	if st := c.Status(); st.State != StateStale {
		t.Errorf("confirming another version: %+v", st)
	}
	s.Confirm(4)
	if st := c.Status(); st.State != StateReady || st.Version != 4 {
		t.Errorf("confirming the served version: %+v", st)
	}
}
