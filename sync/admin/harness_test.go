package admin_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/daemon"
	"github.com/vexil-flags/vexil/sync/internal/redistest"
	"github.com/vexil-flags/vexil/sync/store"
)

const token = "test-admin-token-0123456789"

type harness struct {
	redis *redistest.Server
	srv   *httptest.Server
	c     *client.Client
	store *store.Store
	ctx   context.Context
}

// start runs a real redis-server and a real daemon over HTTP, with an environment "test".
func start(t *testing.T) *harness {
	t.Helper()
	r := redistest.Start(t)
	d, err := daemon.New(daemon.Config{RedisURL: r.URL(), Listen: "127.0.0.1:0", AdminTokens: "ci=" + token, MaxBody: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	h := &harness{redis: r, srv: srv, c: client.New(srv.URL, token), store: d.Store(), ctx: context.Background()}
	h.c.Actor = "tester"
	if _, _, err := h.c.CreateEnvironment(h.ctx, "test", "tests"); err != nil {
		t.Fatal(err)
	}
	return h
}

// status returns the HTTP status of an API error (0 for none, -1 for a non-API error).
func status(err error) int {
	var e *client.Error
	if err == nil {
		return 0
	}
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

func field(err error) string {
	var e *client.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		return e.Fields[0].Field
	}
	return ""
}
