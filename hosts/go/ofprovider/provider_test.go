package ofprovider

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	vexil "github.com/vexil-flags/vexil/hosts/go"
)

func snapshot(version int, checkout int) []byte {
	v := strconv.Itoa(version)
	return []byte(`{"environment": "test", "version": ` + v + `, "flags": [
	 {"key": "checkout", "enabled": true, "variations": [false, true], "offVariation": 0,
	  "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": ` + strconv.Itoa(checkout) + `}],
	  "fallthrough": {"variation": 0}},
	 {"key": "banner", "enabled": true, "variations": ["hello", "bye"], "fallthrough": {"variation": 1}},
	 {"key": "seats", "enabled": true, "variations": [5, 50], "fallthrough": {"variation": 0},
	  "rules": [{"id": "big", "clauses": [{"attribute": "employees", "op": "gte", "values": [100]}], "variation": 1}]},
	 {"key": "ratio", "enabled": true, "variations": [0.25, 0.5], "fallthrough": {"variation": 0}},
	 {"key": "layout", "enabled": false, "variations": [{"cols": 2}, {"cols": 3}], "offVariation": 1, "fallthrough": {"variation": 0}},
	 {"key": "exp", "enabled": true, "variations": ["a", "b"],
	  "experiment": {"key": "exp", "controlVariation": 0},
	  "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 50000}, {"variation": 1, "weight": 50000}]}}},
	 {"key": "gated", "enabled": true, "variations": [false, true], "offVariation": 0,
	  "prerequisites": [{"flag": "checkout", "variations": [1]}], "fallthrough": {"variation": 1}}
	]}`)
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// events collects the provider events an OpenFeature client sees.
type events struct {
	mu  sync.Mutex
	got []of.EventDetails
	typ []of.EventType
}

func (e *events) handler(t of.EventType) of.EventCallback {
	fn := func(d of.EventDetails) {
		e.mu.Lock()
		e.got = append(e.got, d)
		e.typ = append(e.typ, t)
		e.mu.Unlock()
	}
	return &fn
}

// wait returns the first event of type t after index from, waiting up to 5 s.
func (e *events) wait(t *testing.T, want of.EventType, from int) (of.EventDetails, int) {
	t.Helper()
	return e.waitMatch(t, want, from, func(of.EventDetails) bool { return true })
}

// waitMatch is wait for the first event of type t that match accepts.
func (e *events) waitMatch(t *testing.T, want of.EventType, from int, match func(of.EventDetails) bool) (of.EventDetails, int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for i := from; i < len(e.typ); i++ {
			if e.typ[i] == want && match(e.got[i]) {
				d := e.got[i]
				e.mu.Unlock()
				return d, i + 1
			}
		}
		e.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s event within 5s", want)
	return of.EventDetails{}, 0
}

// TestProvider runs the provider through the real go-sdk on both engines: typed evaluations
// with reasons, variants, metadata and error codes; configuration-changed, stale and ready
// events as the snapshot file changes, disappears and comes back; tracking.
func TestProvider(t *testing.T) {
	for _, e := range []vexil.Engine{vexil.EngineWasm, vexil.EngineNative} {
		t.Run(e.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "flags.json")
			write(t, path, snapshot(1, 1))
			client, err := vexil.New(context.Background(), vexil.WithEngine(e), vexil.WithSnapshotFile(path),
				vexil.WithPollInterval(10*time.Millisecond), vexil.WithCompilationCache(filepath.Join(dir, "wazero")))
			if err != nil {
				t.Fatal(err)
			}
			var tracked []TrackEvent
			var tmu sync.Mutex
			p := New(client, WithCloseOnShutdown(), WithTracker(func(_ context.Context, ev TrackEvent) {
				tmu.Lock()
				tracked = append(tracked, ev)
				tmu.Unlock()
			}))
			domain := "vexil-test-" + e.String()
			if err := of.SetNamedProviderAndWait(domain, p); err != nil {
				t.Fatal(err)
			}
			defer of.SetNamedProviderAndWait(domain, of.NoopProvider{})
			ofc := of.NewClient(domain)
			if s := ofc.State(); s != of.ReadyState {
				t.Fatalf("client state %s, want READY", s)
			}
			var ev events
			for _, typ := range []of.EventType{of.ProviderConfigChange, of.ProviderStale, of.ProviderReady, of.ProviderError} {
				ofc.AddHandler(typ, ev.handler(typ))
			}
			ctx := context.Background()
			pro := of.NewEvaluationContext("user-42", map[string]any{"plan": "pro", "employees": 500})

			b, err := ofc.BooleanValueDetails(ctx, "checkout", false, pro)
			if err != nil || !b.Value || b.Reason != of.TargetingMatchReason || b.Variant != "1" ||
				b.FlagMetadata["ruleId"] != "pro" || b.FlagMetadata["version"] != int64(1) {
				t.Errorf("checkout: %+v, %v", b, err)
			}
			s, err := ofc.StringValueDetails(ctx, "banner", "x", pro)
			if err != nil || s.Value != "bye" || s.Reason != of.StaticReason {
				t.Errorf("banner: %+v, %v", s, err)
			}
			i, err := ofc.IntValueDetails(ctx, "seats", 0, pro)
			if err != nil || i.Value != 50 || i.Reason != of.TargetingMatchReason {
				t.Errorf("seats: %+v, %v", i, err)
			}
			f, err := ofc.FloatValueDetails(ctx, "ratio", 0, pro)
			if err != nil || f.Value != 0.25 {
				t.Errorf("ratio: %+v, %v", f, err)
			}
			o, err := ofc.ObjectValueDetails(ctx, "layout", nil, pro)
			if m, ok := o.Value.(map[string]any); err != nil || !ok || m["cols"] != float64(3) || o.Reason != of.DisabledReason {
				t.Errorf("layout: %+v, %v", o, err)
			}
			x, err := ofc.StringValueDetails(ctx, "exp", "", pro)
			if err != nil || x.Reason != of.SplitReason || x.FlagMetadata["inExperiment"] != true {
				t.Errorf("exp: %+v, %v", x, err)
			}
			free := of.NewEvaluationContext("user-1", map[string]any{"plan": "free"})
			g, err := ofc.BooleanValueDetails(ctx, "gated", true, free)
			if err != nil || g.Value || g.Reason != "PREREQUISITE_FAILED" {
				t.Errorf("gated: %+v, %v", g, err)
			}

			// Errors: the caller's default, OpenFeature's code, and a message naming the flag.
			for _, c := range []struct {
				name string
				run  func() (of.ResolutionDetail, error)
				code of.ErrorCode
			}{
				{"unknown flag", func() (of.ResolutionDetail, error) {
					d, err := ofc.BooleanValueDetails(ctx, "nope", true, pro)
					if !d.Value {
						t.Error("unknown flag: default not served")
					}
					return d.ResolutionDetail, err
				}, of.FlagNotFoundCode},
				{"type mismatch", func() (of.ResolutionDetail, error) {
					d, err := ofc.IntValueDetails(ctx, "banner", 7, pro)
					if d.Value != 7 {
						t.Error("type mismatch: default not served")
					}
					return d.ResolutionDetail, err
				}, of.TypeMismatchCode},
				{"fraction as int", func() (of.ResolutionDetail, error) {
					d, err := ofc.IntValueDetails(ctx, "ratio", 7, pro)
					return d.ResolutionDetail, err
				}, of.TypeMismatchCode},
				{"invalid context", func() (of.ResolutionDetail, error) {
					d, err := ofc.BooleanValueDetails(ctx, "checkout", false,
						of.NewEvaluationContext("u", map[string]any{"address": map[string]any{"city": "x"}}))
					if d.ErrorMessage == "" || !strings.Contains(d.ErrorMessage, "context.address") {
						t.Errorf("invalid context message %q", d.ErrorMessage)
					}
					return d.ResolutionDetail, err
				}, of.InvalidContextCode},
			} {
				d, err := c.run()
				if err == nil || d.ErrorCode != c.code || d.Reason != of.ErrorReason {
					t.Errorf("%s: %+v, %v; want %s", c.name, d, err, c.code)
				}
			}

			// Tracking reaches the hook.
			ofc.Track(ctx, "purchase", pro, of.NewTrackingEventDetails(42.5).Add("currency", "EUR"))
			tmu.Lock()
			if len(tracked) != 1 || tracked[0].Name != "purchase" || tracked[0].TargetingKey != "user-42" ||
				tracked[0].Value != 42.5 || tracked[0].Details["currency"] != "EUR" {
				t.Errorf("tracked %+v", tracked)
			}
			tmu.Unlock()

			// A flag flipped in the file: configuration changed, with the flag named.
			write(t, path, snapshot(2, 0))
			d, next := ev.wait(t, of.ProviderConfigChange, 0)
			if !slices.Equal(d.FlagChanges, []string{"checkout", "gated"}) {
				t.Errorf("changed flags %q, want [checkout gated] (gated through its prerequisite)", d.FlagChanges)
			}
			if v, _ := ofc.BooleanValue(ctx, "checkout", true, pro); v {
				t.Error("checkout still on after the change event")
			}
			// File gone: stale, and the flags still answer.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			d, next = ev.wait(t, of.ProviderStale, next)
			if !strings.Contains(d.Message, "flags.json") {
				t.Errorf("stale message %q", d.Message)
			}
			waitState(t, ofc, of.StaleState)
			if v, _ := ofc.StringValue(ctx, "banner", "x", pro); v != "bye" {
				t.Errorf("stale provider answers %q", v)
			}
			// Back: ready.
			write(t, path, snapshot(3, 1))
			ev.wait(t, of.ProviderReady, next)
			waitState(t, ofc, of.ReadyState)
			if v, _ := ofc.BooleanValue(ctx, "checkout", false, pro); !v {
				t.Error("version 3 not served")
			}
		})
	}
}

func waitState(t *testing.T, c *of.Client, want of.State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.State() != want {
		if time.Now().After(deadline) {
			t.Fatalf("client state %s, want %s", c.State(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProviderNotReady: a client without any snapshot fails Init, so the SDK reports ERROR,
// and evaluations return defaults; when a snapshot arrives the provider emits READY.
func TestProviderNotReady(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	client, err := vexil.New(context.Background(), vexil.WithEngine(vexil.EngineNative), vexil.WithSnapshotFile(path),
		vexil.WithPollInterval(10*time.Millisecond))
	if err == nil {
		t.Fatal("New without a snapshot gave no error")
	}
	p := New(client, WithCloseOnShutdown())
	domain := "vexil-test-not-ready"
	if err := of.SetNamedProviderAndWait(domain, p); err == nil {
		t.Error("SetNamedProviderAndWait succeeded without a snapshot")
	}
	defer of.SetNamedProviderAndWait(domain, of.NoopProvider{})
	ofc := of.NewClient(domain)
	if s := ofc.State(); s != of.ErrorState {
		t.Errorf("state %s, want ERROR", s)
	}
	if v, _ := ofc.BooleanValue(context.Background(), "checkout", true, of.NewEvaluationContext("u", nil)); !v {
		t.Error("default not served")
	}
	var ev events
	ofc.AddHandler(of.ProviderError, ev.handler(of.ProviderError))
	ofc.AddHandler(of.ProviderReady, ev.handler(of.ProviderReady))
	// Another failure (the path is now a directory): PROVIDER_ERROR saying so.
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	// (The SDK itself reports the error state to a handler added in that state; ours names the cause.)
	d, next := ev.waitMatch(t, of.ProviderError, 0, func(d of.EventDetails) bool { return strings.Contains(d.Message, "is a directory") })
	// (go-sdk v1.18 does not pass an event's ErrorCode on to handlers.)
	if d.EventMetadata["version"] != int64(-1) {
		t.Errorf("error event %+v", d)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	write(t, path, snapshot(1, 1))
	ev.wait(t, of.ProviderReady, next)
	waitState(t, ofc, of.ReadyState)
	v, err := ofc.BooleanValue(context.Background(), "checkout", false, of.NewEvaluationContext("u", map[string]any{"plan": "pro"}))
	if err != nil || !v {
		t.Errorf("after the snapshot arrived: %v, %v", v, err)
	}
}
