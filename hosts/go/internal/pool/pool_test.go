package pool

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/hosts/go/internal/embedded"
	"github.com/vexil-flags/vexil/hosts/go/internal/wasmengine"
)

const snap = `{"environment": "t", "version": 7, "flags": [{"key": "f", "enabled": true, "variations": [false, true],
 "rules": [{"clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": 1}], "fallthrough": {"variation": 0}}]}`

func module(t *testing.T) *wasmengine.Module {
	t.Helper()
	ctx := context.Background()
	rt, err := wasmengine.NewRuntime(ctx, wasmengine.Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(ctx) })
	m, err := rt.Compile(ctx, embedded.Module)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExclusiveAndRetire: many goroutines acquiring at once never share a slot; a retired set
// closes every instance once idle and refuses further acquisitions.
func TestExclusiveAndRetire(t *testing.T) {
	var open atomic.Int64
	s, err := New(context.Background(), Config{Module: module(t), Size: 3, Open: &open}, []byte(snap))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() != 7 || s.Size() != 3 || open.Load() != 3 {
		t.Fatalf("version %d, size %d, open %d", s.Version(), s.Size(), open.Load())
	}
	holders := make([]atomic.Int32, 3)
	var wg sync.WaitGroup
	var overlaps, acquired atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefer := g % 3
			for range 2000 {
				sl, err := s.Acquire(prefer)
				if err != nil {
					t.Error(err)
					return
				}
				if holders[sl.Index()].Add(1) != 1 {
					overlaps.Add(1)
				}
				if r := sl.In.Evaluate(0); r.Flag != 0 {
					t.Errorf("evaluate: %+v", r)
				}
				holders[sl.Index()].Add(-1)
				prefer = sl.Index()
				sl.Release()
				acquired.Add(1)
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Errorf("%d times two goroutines held one slot", overlaps.Load())
	}
	held, _ := s.Acquire(0)
	done := make(chan struct{})
	go func() { s.Retire(); close(done) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("Retire returned while a slot was held")
	default:
	}
	held.Release()
	<-done
	if open.Load() != 0 {
		t.Errorf("%d instances open after Retire", open.Load())
	}
	if _, err := s.Acquire(0); !errors.Is(err, ErrRetired) {
		t.Errorf("Acquire on a retired set: %v", err)
	}
}

// A snapshot the engine refuses as a whole fails New with the guest's error and leaks nothing.
func TestNewRefusedSnapshot(t *testing.T) {
	var open atomic.Int64
	_, err := New(context.Background(), Config{Module: module(t), Size: 2, Open: &open}, []byte(`{"version": 1}`))
	var ge *wasmengine.GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("New: %v, want a GuestError", err)
	}
	if open.Load() != 0 {
		t.Errorf("%d instances left open", open.Load())
	}
}
