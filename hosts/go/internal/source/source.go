// Package source delivers snapshots to the client: from a file that is watched for changes,
// from bytes given once, and from the sync daemon (Daemon).
//
// A Source runs in its own goroutine and talks to the client through a Sink: every complete
// snapshot it obtains goes to Sink.Snapshot, which reports whether the client could use it;
// every failure to obtain one goes to Sink.Failure. A source that can patch or resume keeps
// its own state and still hands the client whole snapshots, so the client has one way to take
// an update whatever the transport. A source never decides the client's status: the client
// derives READY, STALE and ERROR from what the sink receives.
//
// The sync daemon's source (Daemon) fits this shape: it asks for the snapshot conditional on
// Current's version (ETag), Confirms on 304, delivers a 200's body; then follows the event
// stream from that version, applies patches to the document it holds, delivers each result
// whole, refetches on a version gap, and reports each lost connection as a Failure while it
// reconnects with jittered backoff.
package source

import "context"

// Sink receives what a source obtains. Its methods are called from the source's goroutine,
// one at a time.
type Sink interface {
	// Snapshot hands over a complete snapshot (the client copies what it keeps). It returns
	// an error when the client cannot use the snapshot as a whole; the client keeps serving
	// what it had. Delivering the snapshot the client already serves is how a source says
	// "reachable again, nothing changed".
	Snapshot(data []byte) error
	// Failure reports that the source cannot obtain a snapshot right now; the client keeps
	// serving what it has and reports STALE (or ERROR when it has nothing).
	Failure(err error)
	// Confirm says the snapshot at version is still current (say, an HTTP 304 answering a
	// request conditional on Current's version) without delivering it again; the client is
	// READY again when it serves that version.
	Confirm(version int64)
	// Current is the snapshot the client serves and its version (nil and -1 when none): a
	// source that asks for changes since a version, resumes a stream, or applies patches
	// starts from it — also when it came from the offline cache or the bootstrap (which the
	// client loads only after the source's first Snapshot, Confirm or Failure, so a first
	// request is unconditional).
	Current() (data []byte, version int64)
}

// Source obtains snapshots.
type Source interface {
	// Run delivers snapshots and failures to sink until ctx is done. It returns only then.
	Run(ctx context.Context, sink Sink)
	// String names the source for status reasons and errors ("snapshot file flags.json").
	String() string
}

// Bytes is a source that delivers one snapshot given in memory.
type Bytes []byte

// Run delivers the snapshot once and waits for ctx.
func (b Bytes) Run(ctx context.Context, sink Sink) {
	_ = sink.Snapshot(b)
	<-ctx.Done()
}

func (b Bytes) String() string { return "snapshot bytes" }
