package stream_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/follow"
	"github.com/vexil-flags/vexil/sync/stream"
)

// bigView is version v of environment "e": one flag whose description is large, so that a
// host that does not read fills its socket buffers quickly.
func bigView(v uint64) *follow.View {
	doc := fmt.Sprintf(`{"key":"big","description":"%d %s","enabled":true,"variations":[false,true],"offVariation":0,"fallthrough":{"variation":0}}`,
		v, strings.Repeat("x", 64<<10))
	return &follow.View{Env: "e", Version: v, Flags: map[string][]byte{"big": []byte(doc)}, Segments: map[string][]byte{}}
}

// reader counts the patch versions a well-behaved host receives.
type reader struct {
	mu       sync.Mutex
	versions []string
	ended    string
}

func (r *reader) last() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.versions)
}

func (r *reader) run(body io.Reader) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	id, event := "", ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case line == "":
			r.mu.Lock()
			if event == "patch" {
				r.versions = append(r.versions, id)
			}
			if event == "reconnect" {
				r.ended = "reconnect"
			}
			r.mu.Unlock()
			id, event = "", ""
		}
	}
}

func TestSlowSubscriberDroppedOthersServed(t *testing.T) {
	hub := stream.New(stream.Config{Queue: 8})
	hub.Publish("e", bigView(1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, "e", stream.Server)
	}))
	defer srv.Close()
	defer hub.Shutdown()

	const fast = 5
	readers := make([]*reader, fast)
	for i := range readers {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		readers[i] = &reader{}
		go readers[i].run(resp.Body)
	}
	// The slow host sends its request and then reads nothing.
	slow, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for hub.Subscribers("e", stream.Server) < fast+1 {
		time.Sleep(5 * time.Millisecond)
	}

	const versions = 300 // 300 × 64 KiB: far more than the slow host's socket buffers hold
	dropped := false
	for v := uint64(2); v <= versions; v++ {
		hub.Publish("e", bigView(v)) // never blocks on the slow host
		deadline := time.Now().Add(10 * time.Second)
		for _, r := range readers {
			for r.last() < int(v-1) {
				if time.Now().After(deadline) {
					t.Fatalf("a fast host stalled at %d patches while publishing %d", r.last(), v)
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		if hub.Subscribers("e", stream.Server) == fast {
			dropped = true
		}
	}
	if !dropped {
		t.Fatal("the slow host was never dropped")
	}
	for i, r := range readers {
		r.mu.Lock()
		for j, id := range r.versions {
			if id != fmt.Sprint(j+2) {
				t.Fatalf("host %d: patch %d has id %s", i, j, id)
			}
		}
		r.mu.Unlock()
	}
	// Once the slow host reads again, its stream ends with the reconnect hint.
	_ = slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	const hint = "event: reconnect\ndata: {\"reason\":\"slow\""
	var rest []byte
	buf := make([]byte, 1<<16)
	for !strings.Contains(string(rest[max(0, len(rest)-4096):]), hint) {
		n, err := slow.Read(buf)
		rest = append(rest, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !strings.Contains(string(rest), hint) {
		tail := string(rest)
		if len(tail) > 300 {
			tail = tail[len(tail)-300:]
		}
		t.Fatalf("slow host's stream did not end with the reconnect hint; it ends with %q", tail)
	}
}

func TestHeartbeat(t *testing.T) {
	hub := stream.New(stream.Config{Heartbeat: 50 * time.Millisecond})
	hub.Publish("e", bigView(7))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub.Serve(w, r, "e", stream.Server)
	}))
	// A stream outlives the server's request timeouts (the daemon sets 30s and 60s).
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	defer srv.Close()
	defer hub.Shutdown()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Last-Event-ID", "7") // current: no snapshot
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var got []string
	for len(got) < 30 { // 10 heartbeats: 500ms, five times the timeouts
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	all := strings.Join(got, "")
	if strings.Contains(all, "snapshot") || !strings.Contains(all, "event: heartbeat\ndata: {\"version\":7}\n\n") {
		t.Fatalf("stream: %q", all)
	}
}
