package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vexil-flags/vexil/sync/admin"
	"github.com/vexil-flags/vexil/sync/daemon"
)

// serveReady, when set (by tests), receives the daemon's address once it listens.
var serveReady func(addr net.Addr)

// serveSignals are the signals that stop vexil serve gracefully.
var serveSignals = []os.Signal{syscall.SIGTERM, os.Interrupt}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", getenv("VEXIL_REDIS_URL", "redis://127.0.0.1:6379"),
		"Redis `URL`: redis://, rediss://, redis-sentinel://…?master_name=M, redis-cluster:// (env VEXIL_REDIS_URL)")
	listen := fs.String("listen", getenv("VEXIL_LISTEN", "127.0.0.1:8470"), "listen `ADDRESS` (env VEXIL_LISTEN)")
	tokens := fs.String("admin-token", os.Getenv("VEXIL_ADMIN_TOKEN"), "admin `TOKENS`: SECRET, or NAME=SECRET,NAME=SECRET (env VEXIL_ADMIN_TOKEN)")
	maxBody := fs.Int64("max-body", admin.DefaultMaxBody, "largest request body in `BYTES`")
	drain := fs.Duration("drain", 10*time.Second, "how long shutdown waits for requests in flight")
	keep := fs.Int64("keep-changes", 0, "keep each environment's `N` newest change-log entries; 0 keeps all (the audit reaches back N changes)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vexil serve [flags]\n\nRuns the sync daemon until SIGTERM or Ctrl-C.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vexil serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	d, err := daemon.New(daemon.Config{RedisURL: *redisURL, Listen: *listen, AdminTokens: *tokens, MaxBody: *maxBody, Drain: *drain, KeepChanges: *keep, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "vexil serve: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), serveSignals...)
	defer stop()
	if err := d.Serve(ctx, serveReady); err != nil {
		fmt.Fprintf(stderr, "vexil serve: %v\n", err)
		return exitFailure
	}
	return exitOK
}
