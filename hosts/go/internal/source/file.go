package source

import (
	"context"
	"fmt"
	"os"
	"time"
)

// racyWindow is how recent a modification must be for File to distrust mod time and size.
const racyWindow = 2 * time.Second

// DefaultPollInterval is how often File looks at its file when no interval is given.
const DefaultPollInterval = time.Second

// File is a source that reads a snapshot file and reads it again whenever its modification
// time or size changes, polling every Interval. Polling, rather than filesystem
// notifications, works the same on every platform and filesystem (network and container
// mounts included) and notices a file replaced by rename as well as one rewritten in place.
//
// A file that cannot be read is a Failure; while it stays unreadable File reports the failure
// once per change of the error text, not on every poll. When it can be read again it is
// delivered even if unchanged, so the client knows it is current again.
type File struct {
	Path     string
	Interval time.Duration // DefaultPollInterval when 0
}

func (f *File) String() string { return "snapshot file " + f.Path }

// Run polls the file until ctx is done.
func (f *File) Run(ctx context.Context, sink Sink) {
	interval := f.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	var (
		last    os.FileInfo // stat taken before the last delivered read; nil: read next time
		lastErr string
		failed  bool
	)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fi, err := os.Stat(f.Path)
		switch {
		case err != nil:
			if msg := err.Error(); !failed || msg != lastErr {
				sink.Failure(fmt.Errorf("%s: %w", f, err))
				lastErr = msg
			}
			failed = true
		case failed || last == nil || !os.SameFile(fi, last) || !fi.ModTime().Equal(last.ModTime()) || fi.Size() != last.Size():
			data, err := os.ReadFile(f.Path)
			if err != nil {
				if msg := err.Error(); !failed || msg != lastErr {
					sink.Failure(fmt.Errorf("%s: %w", f, err))
					lastErr = msg
				}
				failed = true
				break
			}
			// Remember the stat taken before the read: a write racing with the read changes
			// the mod time again and is picked up by the next poll. A file modified within
			// the last two seconds is read again on the next poll too, because a second write
			// of the same size within the filesystem's timestamp granularity leaves mod time
			// and size unchanged (the sink ignores a snapshot it already serves).
			last = fi
			if time.Since(fi.ModTime()) < racyWindow {
				last = nil
			}
			if err := sink.Snapshot(data); err != nil {
				if msg := err.Error(); !failed || msg != lastErr {
					lastErr = msg
				}
				failed = false // the sink has reported the unusable content itself
				break
			}
			failed, lastErr = false, ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
