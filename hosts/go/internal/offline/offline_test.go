package offline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "cache")
	if _, err := Read(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty cache: %v, want ErrNotExist", err)
	}
	for _, data := range []string{`{"version": 1}`, `{"version": 2, "longer": true}`, `{}`} {
		if err := Write(dir, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := Read(dir)
		if err != nil || string(got) != data {
			t.Fatalf("read %q, %v; want %q", got, err, data)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != FileName {
		t.Errorf("cache dir holds %v (%v), want only %s", entries, err, FileName)
	}
}

// A failed write leaves the previous snapshot in place and no temporary file behind.
func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []byte(`{"version": 1}`)); err != nil {
		t.Fatal(err)
	}
	// Make the rename fail: the target is now a non-empty directory.
	if err := os.Remove(Path(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(Path(dir), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, []byte(`{"version": 2}`)); err == nil {
		t.Fatal("write over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after a failed write the cache dir holds %d entries, want 1 (no temporary file)", len(entries))
	}
}
