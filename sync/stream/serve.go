package stream

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseLastEventID reads the version a stream resumes from: the Last-Event-ID header, else
// the lastEventId query parameter. ok is false when there is none or it is not a version (the
// stream then starts with a snapshot). 0 counts as none: it is the version of an environment
// before its first change, so a host holding it has nothing worth patching, and whether this
// daemon still has every patch since 0 depends on when it started following.
func ParseLastEventID(r *http.Request) (version uint64, ok bool) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		s = r.URL.Query().Get("lastEventId")
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return v, err == nil && v > 0
}

// Serve streams env to one host until the host goes away or the hub ends the stream. The
// caller has authorized the request. It answers 503 when the hub has no view of env yet or is
// shutting down.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, env string, kind Kind) {
	last, resume := ParseLastEventID(r)
	s, first, ok := h.Subscribe(env, kind, last, resume)
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"code":"unavailable","message":"environment not loaded or daemon shutting down; retry"}` + "\n"))
		return
	}
	defer h.Unsubscribe(s)
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // proxies must not buffer the stream
	w.WriteHeader(http.StatusOK)

	// write sends events and flushes once; false when the host is gone or stuck.
	write := func(evs ...*event) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		for _, ev := range evs {
			if _, err := w.Write(ev.data); err != nil {
				return false
			}
		}
		if rc.Flush() != nil {
			return false
		}
		now := time.Now()
		for _, ev := range evs {
			if ev.patch {
				h.patchesSent.Inc()
				if !ev.at.IsZero() {
					h.propagation.Observe(now.Sub(ev.at).Seconds())
				}
			}
		}
		return true
	}
	// A comment first, so the host sees the stream open even when there is nothing to send.
	if !write(append([]*event{{data: []byte(": vexil stream\n\n")}}, first...)...) {
		return
	}
	tick := time.NewTicker(h.cfg.Heartbeat)
	defer tick.Stop()
	batch := make([]*event, 0, 16)
	for {
		select {
		case ev := <-s.events:
			if !write(drain(append(batch[:0], ev), s.events)...) {
				return
			}
		case <-tick.C:
			if !write(&event{data: h.heartbeat(s)}) {
				return
			}
		case <-s.done:
			// Patches already queued go out first, so a resumption has less to catch up.
			batch = drain(batch[:0], s.events)
			retry := strconv.Itoa(h.cfg.RetryMs)
			bye := &event{data: []byte("retry: " + retry + "\nevent: reconnect\ndata: {\"reason\":\"" + s.reason + "\",\"retryMs\":" + retry + "}\n\n")}
			if s.reason == ReasonSlow {
				batch = batch[:0] // a slow host could not take them anyway
			}
			write(append(batch, bye)...)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// drain appends the events queued now, without waiting.
func drain(batch []*event, events chan *event) []*event {
	for {
		select {
		case ev := <-events:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
}

func (h *Hub) heartbeat(s *Subscriber) []byte {
	h.mu.Lock()
	var v uint64
	if e := h.envs[s.env]; e != nil && e.cur != nil {
		v = e.cur.Version
	}
	h.mu.Unlock()
	return []byte("event: heartbeat\ndata: {\"version\":" + strconv.FormatUint(v, 10) + "}\n\n")
}
