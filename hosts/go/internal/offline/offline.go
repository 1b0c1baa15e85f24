// Package offline keeps the last good snapshot on disk, so that a client restarting while
// its source is unreachable starts from it.
package offline

import (
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the snapshot file inside the cache directory.
const FileName = "snapshot.json"

// Path is the snapshot file of the cache directory dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Write stores data atomically: it writes a temporary file in dir, syncs it, and renames it
// over the previous snapshot, so a reader (or a crash) sees the old file or the new one,
// never a torn one. It creates dir when missing.
func Write(dir string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("offline cache: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".snapshot-*.tmp")
	if err != nil {
		return fmt.Errorf("offline cache: %w", err)
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, Path(dir))
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("offline cache: %w", err)
	}
	return nil
}

// Read returns the cached snapshot; the error matches os.ErrNotExist when there is none.
func Read(dir string) ([]byte, error) {
	data, err := os.ReadFile(Path(dir))
	if err != nil {
		return nil, fmt.Errorf("offline cache: %w", err)
	}
	return data, nil
}
