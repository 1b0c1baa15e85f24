package vexil

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// versionedSnapshot serves its own version in every flag's values, so a result shows which
// snapshot answered: "ver" (a rule, evaluated by the engine), "ver-static" (answered by the
// host), "ver-split" (a rollout).
func versionedSnapshot(v int) []byte {
	s := strconv.Itoa(v)
	return []byte(`{"environment": "swap", "version": ` + s + `, "flags": [
	 {"key": "ver", "enabled": true, "variations": ["v` + s + `", "v` + s + `-rule"],
	  "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": 1}],
	  "fallthrough": {"variation": 0}},
	 {"key": "ver-static", "enabled": true, "variations": ["v` + s + `"], "fallthrough": {"variation": 0}},
	 {"key": "ver-split", "enabled": true, "variations": ["v` + s + `-a", "v` + s + `-b"],
	  "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 50000}, {"variation": 1, "weight": 50000}]}}}
	]}`)
}

// TestSwapsUnderLoad: 4 goroutines check flags continuously while 100 snapshots are swapped
// in. No check may fail, and every value must belong to the version its detail names (no
// mixed-version result). Afterwards no goroutine, engine instance or memory may be left over.
func TestSwapsUnderLoad(t *testing.T) {
	for _, e := range engines {
		t.Run(e.String(), func(t *testing.T) {
			goroutines := runtime.NumGoroutine()
			c := newClient(t, e, WithSnapshot(versionedSnapshot(0)), WithPoolSize(2))
			heapBefore := heapInUse()

			var stop atomic.Bool
			var checks, failures atomic.Int64
			var mu sync.Mutex
			var firstFailure string
			fail := func(msg string) {
				failures.Add(1)
				mu.Lock()
				if firstFailure == "" {
					firstFailure = msg
				}
				mu.Unlock()
			}
			versionsSeen := make([]map[int64]bool, 4)
			var wg sync.WaitGroup
			for w := range 4 {
				versionsSeen[w] = map[int64]bool{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := c.For(Context{TargetingKey: "user-" + strconv.Itoa(w), Attributes: map[string]any{"plan": "pro"}})
					for i := 0; !stop.Load(); i++ {
						if i%64 == 0 {
							h.Reset(Context{TargetingKey: "user-" + strconv.Itoa(i), Attributes: map[string]any{"plan": "pro"}})
						}
						v, d := h.StringDetail("ver", "")
						want := "v" + strconv.FormatInt(d.Version, 10)
						if d.Err != nil || v != want+"-rule" {
							fail("ver: " + v + " at version " + strconv.FormatInt(d.Version, 10) + " err " + errText(d.Err))
						}
						versionsSeen[w][d.Version] = true
						if v, d := h.StringDetail("ver-static", ""); d.Err != nil || v != "v"+strconv.FormatInt(d.Version, 10) {
							fail("ver-static: " + v + " at version " + strconv.FormatInt(d.Version, 10))
						}
						if v, d := h.StringDetail("ver-split", ""); d.Err != nil || (v != "v"+strconv.FormatInt(d.Version, 10)+"-a" && v != "v"+strconv.FormatInt(d.Version, 10)+"-b") {
							fail("ver-split: " + v + " at version " + strconv.FormatInt(d.Version, 10))
						}
						if i%16 == 0 {
							a := h.All()
							prefix := "\"v" + strconv.FormatInt(a.Version(), 10)
							for k := range a.Len() {
								js, ok := a.Value(k)
								if !ok || len(js) < len(prefix) || js[:len(prefix)] != prefix || (len(js) > len(prefix) && js[len(prefix)] != '"' && js[len(prefix)] != '-') {
									fail("All: " + a.Key(k) + "=" + js + " at version " + strconv.FormatInt(a.Version(), 10))
								}
							}
						}
						checks.Add(3)
					}
				}()
			}
			s := sink{c}
			for v := 1; v <= 100; v++ {
				if err := s.Snapshot(versionedSnapshot(v)); err != nil {
					t.Fatalf("swap %d: %v", v, err)
				}
				time.Sleep(2 * time.Millisecond) // let the checkers meet every version
			}
			time.Sleep(20 * time.Millisecond)
			stop.Store(true)
			wg.Wait()

			if n := failures.Load(); n > 0 {
				t.Errorf("%d failed or mixed-version checks of %d; first: %s", n, checks.Load(), firstFailure)
			}
			if c.Version() != 100 {
				t.Errorf("serving version %d after the swaps, want 100", c.Version())
			}
			seen := 0
			for _, m := range versionsSeen {
				seen += len(m)
			}
			if seen < 8 {
				t.Errorf("the checkers met %d versions in all: the swaps did not happen under load", seen)
			}
			t.Logf("%d checks, %d versions met by 4 goroutines", checks.Load(), seen)

			// Leaks: old instances closed, memory back, goroutines gone after Close.
			c.retiring.Wait()
			if e == EngineWasm {
				if n := c.openInstances(); n != 2 {
					t.Errorf("%d wasm instances open after the swaps, want the pool's 2", n)
				}
			}
			if grown := heapInUse() - heapBefore; grown > 16<<20 {
				t.Errorf("heap grew by %d MiB over 100 swaps", grown>>20)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if n := c.openInstances(); n != 0 {
				t.Errorf("%d wasm instances open after Close", n)
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > goroutines {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines after Close, %d before the client:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestTrappedInstanceReplaced: an instance that breaks (here: closed behind the pool's back,
// which the engine reports exactly as a trap) fails the one check that meets it — with the
// caller's default and GENERAL — and is replaced in the background; checks then succeed
// again and the pool is back to full size.
func TestTrappedInstanceReplaced(t *testing.T) {
	c := newClient(t, EngineWasm, WithSnapshot(testSnapshot(1, 1)), WithPoolSize(2))
	g := c.gen.Load()
	for i := range g.pool.Size() {
		sl, err := g.pool.Acquire(i)
		if err != nil || sl.Index() != i {
			t.Fatalf("acquire slot %d: %v", i, err)
		}
		_ = sl.In.Close() // both instances broken
		sl.Release()
	}
	h := c.For(pro)
	v, d := h.BoolDetail("checkout", false)
	if v || d.ErrorCode != ErrorGeneral || d.Reason != ReasonError || d.Err == nil {
		t.Errorf("check on a broken instance: %v %+v", v, d)
	}
	t.Logf("detail of the failed check: %v", d.Err)
	// Static flags do not need an instance.
	if s := h.String("banner", ""); s != "hello" {
		t.Errorf("static flag with broken instances: %q", s)
	}
	waitFor(t, "checks to succeed on replacement instances", func() bool {
		v, d := h.BoolDetail("checkout", false)
		return v && d.Err == nil
	})
	// Let the second replacement finish too, then both slots serve.
	waitFor(t, "both instances replaced", func() bool {
		for i := range g.pool.Size() {
			sl, err := g.pool.Acquire(i)
			if err != nil {
				return false
			}
			ok := sl.Index() == i && sl.In != nil && !sl.In.Broken() && sl.In.Version() == 1
			sl.Release()
			if !ok {
				return false
			}
		}
		return true
	})
	if n := c.openInstances(); n != 2 {
		t.Errorf("%d instances open, want 2", n)
	}
}
