package sdkapi_test

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/sync/stream"
)

// BenchmarkPropagation measures the time from an admin API write (HTTP, through Redis and the
// change-log follower) to its patch's receipt by each of N SSE subscribers, all real HTTP
// connections in this process. One op is one write and its delivery to all N; p50/p99 are over
// every (write, subscriber) pair.
func BenchmarkPropagation(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchPropagation(b, n) })
	}
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
	var target atomic.Uint64 // the version being waited for
	var pending atomic.Int64
	done := make(chan struct{}, 1)
	received := make([]int64, n) // receipt time (UnixNano) of target, per subscriber
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest("GET", e.srv.URL+"/sdk/v1/stream", nil)
		req.Header.Set("Authorization", "Bearer "+e.keys.Server)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != 200 {
			b.Fatalf("stream: %s", resp.Status)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer resp.Body.Close()
			br := bufio.NewReaderSize(resp.Body, 4<<10) // patches are small; snapshots may span reads
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
					if v == target.Load() {
						received[i] = time.Now().UnixNano()
						if pending.Add(-1) == 0 {
							done <- struct{}{}
						}
					}
				}
			}
		}(i)
	}
	for e.d.Hub().Subscribers("test", stream.Server) < n {
		time.Sleep(time.Millisecond)
	}
	lat := make([]time.Duration, 0, b.N*n)
	version := env.Version
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		pending.Store(int64(n))
		target.Store(version + 1)
		start := time.Now()
		fs, err := e.admin.FlagVerb(e.ctx, "test", "bench", "toggle", nil)
		if err != nil {
			b.Fatal(err)
		}
		if fs.Version != version+1 {
			b.Fatalf("version %d, want %d (a concurrent writer?)", fs.Version, version+1)
		}
		version = fs.Version
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("%d of %d subscribers did not receive version %d", pending.Load(), n, version)
		}
		for _, t := range received {
			lat = append(lat, time.Duration(t-start.UnixNano()))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	_ = e.d.Close() // ends the streams
	wg.Wait()
}
