package sdkapi_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/stream"
)

// BenchmarkPropagation measures the time from an admin API write (HTTP, through Redis and the
// change-log follower) to its patch's receipt by each of N SSE subscribers over real HTTP
// connections. One op is one write and its delivery to all N; p50/p99 are over every (write,
// subscriber) pair. Up to 1,000 subscribers run in this process; 10,000 run in a child process
// (this test binary again, see TestMain), because both ends of 10,000 connections do not fit
// one process's 20,000 file descriptors here.
func BenchmarkPropagation(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchPropagation(b, n) })
	}
}

// subscriberEnv, when set ("URL KEY N"), makes the test binary a subscriber process.
const subscriberEnv = "VEXIL_BENCH_SUBSCRIBERS"

func TestMain(m *testing.M) {
	if spec := os.Getenv(subscriberEnv); spec != "" {
		os.Exit(subscriberProcess(spec))
	}
	os.Exit(m.Run())
}

// pool is N SSE subscribers, each recording when it receives the version the pool waits for.
type pool struct {
	target   atomic.Uint64
	pending  atomic.Int64
	done     chan struct{}
	received []int64 // receipt time (UnixNano) of target, per subscriber
	tr       *http.Transport
	wg       sync.WaitGroup
}

func openPool(url, key string, n int) (*pool, error) {
	p := &pool{done: make(chan struct{}, 1), received: make([]int64, n), tr: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", url+"/sdk/v1/stream", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := p.tr.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("stream: %s", resp.Status)
		}
		p.wg.Add(1)
		go func(i int) {
			defer p.wg.Done()
			defer resp.Body.Close()
			br := bufio.NewReaderSize(resp.Body, 4<<10)
			for {
				line, err := br.ReadSlice('\n')
				if err == bufio.ErrBufferFull {
					continue // the rest of a long line (a snapshot)
				}
				if err != nil {
					return
				}
				if len(line) > 4 && string(line[:4]) == "id: " {
					v, _ := strconv.ParseUint(strings.TrimSpace(string(line[4:])), 10, 64)
					if v == p.target.Load() {
						p.received[i] = time.Now().UnixNano()
						if p.pending.Add(-1) == 0 {
							p.done <- struct{}{}
						}
					}
				}
			}
		}(i)
	}
	return p, nil
}

// expect arms the pool for version v; wait then returns once every subscriber has it.
func (p *pool) expect(v uint64) {
	p.pending.Store(int64(len(p.received)))
	p.target.Store(v)
}

func (p *pool) wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// subscriberProcess runs a pool for the parent benchmark: on stdin "V" arms it for version V
// (answered "ok"), and once all have V it prints the receipt times.
func subscriberProcess(spec string) int {
	f := strings.Fields(spec)
	n, _ := strconv.Atoi(f[2])
	p, err := openPool(f[0], f[1], n)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		v, _ := strconv.ParseUint(in.Text(), 10, 64)
		p.expect(v)
		fmt.Fprintln(out, "ok")
		out.Flush()
		if !p.wait(60 * time.Second) {
			fmt.Fprintln(out, "timeout", p.pending.Load())
			out.Flush()
			return 1
		}
		for _, t := range p.received {
			out.WriteString(strconv.FormatInt(t, 10))
			out.WriteByte(' ')
		}
		out.WriteByte('\n')
		out.Flush()
	}
	return 0
}

// remote drives a subscriber process.
type remote struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	out *bufio.Reader
}

func (r *remote) line() string {
	s, _ := r.out.ReadString('\n')
	return strings.TrimSpace(s)
}

func benchPropagation(b *testing.B, n int) {
	e := start(b)
	if _, err := e.admin.CreateFlag(e.ctx, "test", boolFlag("bench")); err != nil {
		b.Fatal(err)
	}
	env, err := e.admin.Environment(e.ctx, "test")
	if err != nil {
		b.Fatal(err)
	}
	var local *pool
	var child *remote
	heapBefore := heapInUse()
	if n <= 1000 {
		if local, err = openPool(e.srv.URL, e.keys.Server, n); err != nil {
			b.Fatal(err)
		}
	} else {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", subscriberEnv, e.srv.URL, e.keys.Server, n))
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		child = &remote{cmd: cmd, in: bufio.NewWriter(stdin), out: bufio.NewReaderSize(stdout, 1<<20)}
		defer func() { stdin.Close(); _ = cmd.Wait() }()
		if s := child.line(); s != "ready" {
			b.Fatalf("subscriber process: %q", s)
		}
	}
	for e.d.Hub().Subscribers("test", stream.Server) < n {
		time.Sleep(time.Millisecond)
	}
	// With the subscribers in a child process, this process is the daemon (plus the admin
	// client that writes): its memory growth per connection (heap and goroutine stacks) and
	// its CPU time per delivered patch are the daemon's own.
	var heapConnected uint64
	if child != nil {
		heapConnected = heapInUse()
	}
	lat := make([]time.Duration, 0, b.N*n)
	version := env.Version
	cpu0 := cpuTime()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		want := version + 1
		if local != nil {
			local.expect(want)
		} else {
			fmt.Fprintln(child.in, want)
			child.in.Flush()
			if s := child.line(); s != "ok" {
				b.Fatalf("subscriber process: %q", s)
			}
		}
		start := time.Now()
		fs, err := e.admin.FlagVerb(e.ctx, "test", "bench", "toggle", nil)
		if err != nil {
			b.Fatal(err)
		}
		if fs.Version != want {
			b.Fatalf("version %d, want %d (a concurrent writer?)", fs.Version, want)
		}
		version = fs.Version
		received := []int64(nil)
		if local != nil {
			if !local.wait(30 * time.Second) {
				b.Fatalf("%d of %d subscribers did not receive version %d", local.pending.Load(), n, version)
			}
			received = local.received
		} else {
			for _, f := range strings.Fields(child.line()) {
				t, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					b.Fatalf("subscriber process: %q", f)
				}
				received = append(received, t)
			}
			if len(received) != n {
				b.Fatalf("subscriber process reported %d receipts, want %d", len(received), n)
			}
		}
		for _, t := range received {
			lat = append(lat, time.Duration(t-start.UnixNano()))
		}
	}
	b.StopTimer()
	if child != nil {
		b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N*n), "daemon-cpu-µs/patch")
		b.ReportMetric(float64(int64(heapConnected)-int64(heapBefore))/float64(n), "daemon-mem-B/conn")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	_ = e.d.Close() // ends the streams
	if local != nil {
		local.wg.Wait()
		local.tr.CloseIdleConnections()
	}
}

// heapInUse is the process's live heap and goroutine stacks after a collection, in bytes.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// cpuTime is the process's user and system CPU time so far, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
