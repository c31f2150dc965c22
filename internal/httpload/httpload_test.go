// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/conncount"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// startApp serves the sample httpbin on loopback.
func startApp(t *testing.T) (*app.Server, string) {
	t.Helper()
	a := app.New()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv.URL
}

// endpoints parses an experiment's http section the way the steps do.
func endpoints(t *testing.T, yaml string) []experiment.HTTPEndpoint {
	t.Helper()
	e, err := experiment.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	eps, err := Prepare(context.Background(), http.DefaultClient, e.HTTPEndpoints())
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return eps
}

func run(t *testing.T, eps []experiment.HTTPEndpoint) *metrics.File {
	t.Helper()
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), ProgressEvery: time.Second}
	f, err := w.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return f
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestRequestCountMatchesServer(t *testing.T) {
	for _, tc := range []struct {
		name        string
		n, conns    int
		wantPerPath int64
	}{
		{"even split", 200, 4, 200},
		{"remainder kept: 200 on 3", 200, 3, 200},
		{"more connections than requests", 5, 8, 5},
		{"one connection", 17, 1, 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, url := startApp(t)
			eps := endpoints(t, `
tasks: [http]
http:
  qps: unlimited
  numRequests: `+itoa(tc.n)+`
  connections: `+itoa(tc.conns)+`
  endpoints:
    get: {url: `+url+`/get}
    post: {url: `+url+`/post, payloadStr: hello}
`)
			f := run(t, eps)
			got := map[string]int64{}
			for _, e := range f.Endpoints {
				got[e.Prefix()] = e.RequestCount
				if e.ErrorCount != 0 {
					t.Errorf("%s: %d errors: %v", e.Prefix(), e.ErrorCount, e.Errors)
				}
				if e.Latency.TotalCount() != e.RequestCount {
					t.Errorf("%s: histogram holds %d latencies, want %d", e.Prefix(), e.Latency.TotalCount(), e.RequestCount)
				}
			}
			want := map[string]int64{"http-get": tc.wantPerPath, "http-post": tc.wantPerPath}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request counts (-want +got):\n%s", diff)
			}
			server := map[string]int64{"http-get": a.Count("/get"), "http-post": a.Count("/post")}
			if diff := cmp.Diff(want, server); diff != "" {
				t.Errorf("server counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorsCounted(t *testing.T) {
	_, url := startApp(t)
	// A port with nothing listening: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	eps := endpoints(t, `
tasks: [http]
http:
  qps: unlimited
  numRequests: 40
  connections: 2
  endpoints:
    fail: {url: `+url+`/status/500}
    notFoundOK: {url: `+url+`/status/404, errorRanges: [{lower: 500}]}
    dead: {url: `+dead+`/get}
`)
	f := run(t, eps)
	type counts struct{ Requests, Errors, Latencies int64 }
	got := map[string]counts{}
	for _, e := range f.Endpoints {
		got[e.Prefix()] = counts{e.RequestCount, e.ErrorCount, e.Latency.TotalCount()}
	}
	want := map[string]counts{
		"http-fail":       {40, 40, 40},
		"http-notFoundOK": {40, 0, 40},
		"http-dead":       {40, 40, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Endpoints run in name order: dead, fail, notFoundOK.
	if got := f.Endpoints[1].Errors["HTTP 500 Internal Server Error"]; got != 40 {
		t.Errorf("fail errors = %v, want 40 x HTTP 500", f.Endpoints[1].Errors)
	}
	for msg := range f.Endpoints[0].Errors {
		if !strings.Contains(msg, "connection refused") {
			t.Errorf("dead endpoint error %q does not say the connection was refused", msg)
		}
	}
}

func TestDelayLatency(t *testing.T) {
	_, url := startApp(t)
	eps := endpoints(t, `
tasks: [http]
http:
  url: `+url+`/delay/20
  qps: unlimited
  numRequests: 60
  connections: 3
`)
	f := run(t, eps)
	values, _, _ := f.Endpoints[0].Values()
	p50 := values["http/latency-p50"]
	if p50 < 20 || p50 > 25 {
		t.Errorf("http/latency-p50 = %.3f ms, want within [20, 25]", p50)
	}
	if min := values["http/latency-min"]; min < 20 {
		t.Errorf("http/latency-min = %.3f ms, below the server's 20 ms delay", min)
	}
}

func TestRateAndDuration(t *testing.T) {
	for _, conns := range []int{1, 3, 7, 20} {
		t.Run("connections "+itoa(conns), func(t *testing.T) {
			t.Parallel()
			a, url := startApp(t)
			eps := endpoints(t, `
tasks: [http]
http:
  url: `+url+`/get
  qps: 50
  duration: 4s
  connections: `+itoa(conns)+`
`)
			start := time.Now()
			f := run(t, eps)
			took := time.Since(start)
			got := f.Endpoints[0].RequestCount
			if got < 195 || got > 205 {
				t.Errorf("sent %d requests at 50/s for 4s, want 200 +/- 5", got)
			}
			if a.Count("/get") != got {
				t.Errorf("server saw %d, metrics say %d", a.Count("/get"), got)
			}
			if took < 3500*time.Millisecond || took > 6*time.Second {
				t.Errorf("run took %v, want about 4s", took)
			}
		})
	}
}

func TestProgressLines(t *testing.T) {
	_, url := startApp(t)
	eps := endpoints(t, `
tasks: [http]
http: {url: `+url+`/get, numRequests: 60, qps: 40, connections: 2}
`)
	var buf syncBuffer
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(&buf, nil)), ProgressEvery: 500 * time.Millisecond}
	if _, err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	var progress []string
	for _, l := range lines {
		if strings.Contains(l, "requests done") {
			progress = append(progress, l)
		}
	}
	// 60 requests at 40/s take 1.5s: two or three lines, each with a count
	// between 1 and 60.
	if len(progress) < 2 {
		t.Fatalf("%d progress lines in a 1.5s run with a 0.5s interval, want 2 or more:\n%s", len(progress), buf.String())
	}
	for _, l := range progress {
		var n int
		if _, err := fmt.Sscanf(l[strings.Index(l, "http: ")+len("http: "):], "%d/60 requests done", &n); err != nil || n < 1 || n > 60 {
			t.Errorf("progress line %q: count %d (%v), want 1..60", l, n, err)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWarmupReachesServerNotMetrics(t *testing.T) {
	for _, tc := range []struct {
		name, warmup     string
		wantMin, wantMax int64
	}{
		{"by count", "warmupNumRequests: 30", 30, 30},
		// At 100 requests/s, a 1s warmup sends 100 (rate x duration).
		{"by duration", "warmupDuration: 1s", 95, 105},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, url := startApp(t)
			eps := endpoints(t, `
tasks: [http]
http:
  url: `+url+`/anything
  qps: 100
  numRequests: 50
  connections: 2
  `+tc.warmup+`
`)
			f := run(t, eps)
			if got := f.Endpoints[0].RequestCount; got != 50 {
				t.Errorf("metrics count %d requests, want 50", got)
			}
			warm := a.Count("/anything") - 50
			if warm < tc.wantMin || warm > tc.wantMax {
				t.Errorf("server saw %d warmup requests, want %d to %d", warm, tc.wantMin, tc.wantMax)
			}
		})
	}
}

func TestHeadersAndPayloadReachServer(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("X-Test")+" "+r.Header.Get("Content-Type")+" "+string(b[:n]))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	eps := endpoints(t, `
tasks: [http]
http:
  url: `+srv.URL+`/x
  numRequests: 3
  connections: 1
  qps: unlimited
  headers: {X-Test: yes}
  contentType: application/json
  payloadStr: '{"a":1}'
`)
	run(t, eps)
	want := []string{`POST yes application/json {"a":1}`, `POST yes application/json {"a":1}`, `POST yes application/json {"a":1}`}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCancelStopsLoad(t *testing.T) {
	_, url := startApp(t)
	eps := endpoints(t, `
tasks: [http]
http: {url: `+url+`/get, duration: 1m, qps: 20}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&Work{Endpoints: eps}).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "load stopped") {
		t.Errorf("Run after cancel = %v, want a 'load stopped' error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancelled run took %v", took)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// startCountingApp serves the sample httpbin on loopback and counts the
// connections it holds open.
func startCountingApp(t *testing.T) (*app.Server, *conncount.Listener, string) {
	t.Helper()
	a := app.New()
	srv := httptest.NewUnstartedServer(a)
	conns := conncount.Wrap(srv.Listener)
	srv.Listener = conns
	srv.Start()
	t.Cleanup(srv.Close)
	return a, conns, srv.URL
}

// waitClosed waits up to 2s for the server to hold no connection open.
func waitClosed(t *testing.T, conns *conncount.Listener) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for conns.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := conns.Open(); n > 0 {
		t.Errorf("%d connections still open 2s after the load ended, want 0", n)
	}
}

func TestServerSeesTheAskedConnections(t *testing.T) {
	for _, tc := range []struct {
		name, traffic string
		// phases is 2 with a warmup: each phase opens its own connections.
		phases int
	}{
		{"count", "numRequests: 400, qps: unlimited", 1},
		{"duration", "duration: 1s, qps: unlimited", 1},
		{"rated count", "numRequests: 60, qps: 100", 1},
		{"rated duration", "duration: 1s, qps: 60", 1},
		{"count with warmup", "numRequests: 100, qps: unlimited, warmupNumRequests: 50", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, conns, url := startCountingApp(t)
			eps := endpoints(t, "tasks: [http]\nhttp: {url: "+url+"/delay/5, connections: 8, "+tc.traffic+"}\n")
			f := run(t, eps)
			if e := f.Endpoints[0]; e.ErrorCount != 0 {
				t.Errorf("%d errors: %v", e.ErrorCount, e.Errors)
			}
			// A phase's connections close as the next one's open, so with
			// a warmup the server may see both for a moment.
			if got := conns.Peak(); got < 8 || (tc.phases == 1 && got != 8) {
				t.Errorf("the server saw at most %d connections open at once, want the 8 asked", got)
			}
			if got := conns.Accepted(); got != 8*tc.phases {
				t.Errorf("the server accepted %d connections, want 8 per phase", got)
			}
			waitClosed(t, conns)
		})
	}
}

func TestCancelReturnsWhatWasMeasured(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"server answers", "/delay/20"},
		{"server hangs", "/delay/60000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, conns, url := startCountingApp(t)
			eps := endpoints(t, "tasks: [http]\nhttp: {url: "+url+tc.path+", duration: 1m, qps: unlimited, connections: 4}\n")
			signal := errors.New("terminated signal received")
			ctx, cancel := context.WithCancelCause(context.Background())
			cancelled := make(chan time.Time, 1)
			time.AfterFunc(700*time.Millisecond, func() {
				cancelled <- time.Now()
				cancel(signal)
			})
			f, err := (&Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}).Run(ctx)
			if !errors.Is(err, signal) {
				t.Errorf("Run after cancel = %v, want an error wrapping the cause", err)
			}
			if f == nil {
				t.Fatal("Run after cancel returned no metrics")
			}
			took := time.Since(<-cancelled)
			t.Logf("Run returned %v after the cancel", took)
			if took > 3*time.Second {
				t.Errorf("Run returned %v after the cancel, want within 3s", took)
			}
			if len(f.Endpoints) != 1 {
				t.Fatalf("%d endpoints in the metrics, want the one that was stopped", len(f.Endpoints))
			}
			e := f.Endpoints[0]
			want := regexp.MustCompile(`^http: stopped after 0\.[5-9]s of 1m0s \(terminated signal received\); ` + strconv.FormatInt(e.RequestCount, 10) + ` requests measured$`)
			if !want.MatchString(f.Stopped) {
				t.Errorf("Stopped = %q, want it to match %s", f.Stopped, want)
			}
			if tc.path == "/delay/60000" {
				// The four requests in flight were cut by the abort.
				want := map[string]int64{`Get "` + url + tc.path + `": load stopped: request aborted in flight`: 4}
				if diff := cmp.Diff(want, e.Errors); diff != "" {
					t.Errorf("errors of the aborted requests (-want +got):\n%s", diff)
				}
			}
			if tc.path == "/delay/20" && e.RequestCount < 20 {
				t.Errorf("%d requests measured in 0.7s on 4 connections at 20ms each, want 20 or more", e.RequestCount)
			}
			waitClosed(t, conns)
		})
	}
}

func TestDurationRunAllocatesLittle(t *testing.T) {
	_, url := startApp(t)
	eps := endpoints(t, "tasks: [http]\nhttp: {url: "+url+"/delay/20, duration: 300ms, qps: unlimited, connections: 2}\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := run(t, eps)
	runtime.ReadMemStats(&after)
	if n := f.Endpoints[0].RequestCount; n < 10 {
		t.Fatalf("%d requests in 300ms on 2 connections at 20ms each, want 10 or more", n)
	}
	// About 30 requests: anything near hey's 56 MB of result buffers for
	// an open-ended run means memory grows with what might be sent.
	// The loop's ballast is fixed, and never written; the heap it
	// prefaults is fixed too, and let go before the load.
	if got := after.TotalAlloc - before.TotalAlloc - uint64(load.Ballast()+load.PrefaultBytes()); got > 16<<20 {
		t.Errorf("a 300ms run allocated %d MB, want under 16 MB", got>>20)
	}
}

func TestBatchesKeepEveryResult(t *testing.T) {
	for _, tc := range []struct{ name, traffic string }{
		{"count", "numRequests: 1000, qps: unlimited"},
		{"duration", "duration: 500ms, qps: unlimited"},
		{"rated duration", "duration: 1s, qps: 300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, conns, url := startCountingApp(t)
			eps := endpoints(t, "tasks: [http]\nhttp: {url: "+url+"/get, connections: 4, "+tc.traffic+"}\n")
			// 40 results at once over 4 connections: batches of 32
			// requests, each on a connection of its own.
			w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), ProgressEvery: time.Second, batch: 40}
			f, err := w.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			e := f.Endpoints[0]
			if e.ErrorCount != 0 {
				t.Errorf("%d errors: %v", e.ErrorCount, e.Errors)
			}
			type counts struct{ Requests, Latencies, OK, Server int64 }
			want := counts{e.RequestCount, e.RequestCount, e.RequestCount, e.RequestCount}
			if diff := cmp.Diff(want, counts{e.RequestCount, e.Latency.TotalCount(), e.StatusCodes["200"], a.Count("/get")}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tc.name == "count" && e.RequestCount != 1000 {
				t.Errorf("%d requests, want 1000", e.RequestCount)
			}
			if tc.name == "rated duration" && e.RequestCount != 300 {
				t.Errorf("%d requests, want 300 (rate x duration)", e.RequestCount)
			}
			if got, want := conns.Accepted(), int((e.RequestCount+31)/32); got < want {
				t.Errorf("%d connections for %d requests in batches of 32, want %d or more", got, e.RequestCount, want)
			}
			if got := conns.Peak(); got > 8 {
				t.Errorf("%d connections open at once, want no more than 4 (and 4 closing)", got)
			}
			waitClosed(t, conns)
		})
	}
}

// TestPacingIsNotLatency: at a rate, a request waits for its turn before it
// is sent; that wait is not the server's latency. The seed's default (8
// requests/s on 4 connections) makes each connection wait 500 ms between
// requests; /delay/20 answers in 20 ms.
func TestPacingIsNotLatency(t *testing.T) {
	for _, tc := range []struct {
		name, traffic string
	}{
		{"count at the seed's rate", "numRequests: 12, qps: 8, connections: 4"},
		{"duration at a rate", "duration: 1500ms, qps: 8, connections: 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startApp(t)
			f := run(t, endpoints(t, "tasks: [http]\nhttp: {url: "+url+"/delay/20, "+tc.traffic+"}\n"))
			e := f.Endpoints[0]
			values, _, _ := e.Values()
			mean, max := values["http/latency-mean"], values["http/latency-max"]
			if e.RequestCount < 12 || e.ErrorCount != 0 || mean < 20 || max > 150 {
				t.Errorf("%d requests, %d errors, latency mean %.1f ms, max %.1f ms; want >= 12 requests, no error, latencies of about 20 ms (the server's delay), not the pacing",
					e.RequestCount, e.ErrorCount, mean, max)
			}
		})
	}
}
