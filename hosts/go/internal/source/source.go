// Package source delivers snapshots to the client: from a file that is watched for changes,
// from bytes given once, and (later) from the sync daemon.
//
// A Source runs in its own goroutine and talks to the client through a Sink: every complete
// snapshot it obtains goes to Sink.Snapshot, which reports whether the client could use it;
// every failure to obtain one goes to Sink.Failure. A source that can patch or resume keeps
// its own state and still hands the client whole snapshots, so the client has one way to take
// an update whatever the transport. A source never decides the client's status: the client
// derives READY, STALE and ERROR from what the sink receives.
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
	// Version is the version of the snapshot the client serves, -1 when none: a source
	// that resumes or asks for changes since a version starts from it.
	Version() int64
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
