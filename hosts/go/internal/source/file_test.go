package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Sink that records what it receives; it refuses snapshots starting with "bad".
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Snapshot(data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "snapshot "+string(data))
	if strings.HasPrefix(string(data), "bad") {
		return errors.New("unusable")
	}
	return nil
}

func (r *recorder) Failure(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "failure "+err.Error())
}

func (r *recorder) Confirm(int64) {}

func (r *recorder) Current() ([]byte, int64) { return nil, -1 }

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// waitEvent waits up to 5 s for an event with the prefix after index from.
func (r *recorder) waitEvent(t *testing.T, prefix string, from int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ev := r.snapshot()
		for i := from; i < len(ev); i++ {
			if strings.HasPrefix(ev[i], prefix) {
				return i + 1
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no %q event within 5s; events: %q", prefix, r.snapshot())
	return 0
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.json")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path+".tmp", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var r recorder
	f := &File{Path: path, Interval: 5 * time.Millisecond}
	done := make(chan struct{})
	go func() { f.Run(ctx, &r); close(done) }()

	// Missing: one failure, not one per poll.
	n := r.waitEvent(t, "failure "+f.String(), 0)
	time.Sleep(50 * time.Millisecond)
	if ev := r.snapshot(); len(ev) != n {
		t.Errorf("a missing file was reported %d times: %q", len(ev), ev)
	}
	// Appears, changes with the same size (caught although size and maybe mod time are equal).
	write("one")
	n = r.waitEvent(t, "snapshot one", n)
	write("two")
	n = r.waitEvent(t, "snapshot two", n)
	// Unusable content is delivered (the sink reports it), then good content again.
	write("bad!")
	n = r.waitEvent(t, "snapshot bad!", n)
	write("three")
	n = r.waitEvent(t, "snapshot three", n)
	// Gone and back unchanged: failure, then the same snapshot delivered again.
	if err := os.Rename(path, path+".away"); err != nil {
		t.Fatal(err)
	}
	n = r.waitEvent(t, "failure", n)
	if err := os.Rename(path+".away", path); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(t, "snapshot three", n)

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
