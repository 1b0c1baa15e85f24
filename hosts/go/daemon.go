package vexil

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vexil-flags/vexil/hosts/go/internal/source"
)

// WithDaemon follows a Vexil sync daemon (sync/PROTOCOL.md) at url ("http://vexil:8080")
// with a server key (vx_server_…, sent only as a bearer token): the client fetches the
// snapshot (conditional on the version it serves, gzip-compressed), then follows the daemon's
// event stream, so a change made through the admin API reaches flag checks within
// milliseconds. Patches are applied to the snapshot held and swapped in whole; a missed
// version makes the client fetch the snapshot again.
//
// While the daemon cannot be reached (or refuses the key, or 45 s pass without a heartbeat)
// the client keeps serving what it has, reports STALE with the reason, and reconnects with
// jittered exponential backoff (1 s doubling to 30 s; see WithDaemonBackoff), resuming the
// stream from its version. With WithOfflineCache, a client started while the daemon is down
// serves the last snapshot it saved.
func WithDaemon(url, serverKey string) Option {
	return func(c *config) {
		if err := checkDaemonURL(url); err != nil {
			c.errs = append(c.errs, err)
			return
		}
		if serverKey == "" {
			c.errs = append(c.errs, errors.New("WithDaemon: empty server key"))
			return
		}
		if strings.HasPrefix(serverKey, "vx_client_") {
			c.errs = append(c.errs, errors.New("WithDaemon: serverKey is a client key (vx_client_…); give the environment's server key"))
			return
		}
		c.sources = append(c.sources, &source.Daemon{URL: url, Key: serverKey})
	}
}

func checkDaemonURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("WithDaemon: url: " + err.Error())
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("WithDaemon: url: want http://host:port or https://host, got " + strconv.Quote(s))
	}
	return nil
}

// WithDaemonBackoff sets how long WithDaemon waits before reconnecting: min after the first
// failure, doubling up to max (defaults 1 s and 30 s), half of each wait random so that many
// clients do not reconnect at once. A daemon's reconnect hint is followed, capped at max.
func WithDaemonBackoff(min, max time.Duration) Option {
	return func(c *config) {
		if min <= 0 || max < min {
			c.errs = append(c.errs, errors.New("WithDaemonBackoff: want 0 < min ≤ max"))
			return
		}
		c.daemonBackoff = [2]time.Duration{min, max}
	}
}
