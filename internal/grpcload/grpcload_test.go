// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bojand/ghz/runner"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/conncount"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// repo is the repository's root, for the proto and the seed's payloads.
func repo(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// startRouteGuide serves the sample routeguide on loopback.
func startRouteGuide(t *testing.T) (*app.Server, string) {
	t.Helper()
	s, addr, err := app.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.GRPC.Stop)
	return s, addr
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// prepare parses an experiment's grpc section and resolves it, the way the
// grpc step does. yaml may use $REPO for the repository root.
func prepare(t *testing.T, yaml string) ([]Endpoint, error) {
	t.Helper()
	e, err := experiment.Parse([]byte(strings.ReplaceAll(yaml, "$REPO", repo(t))), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return Prepare(context.Background(), http.DefaultClient, e.GRPCEndpoints())
}

func run(t *testing.T, yaml string) *metrics.File {
	t.Helper()
	eps, err := prepare(t, yaml)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), ProgressEvery: time.Second}
	f, err := w.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return f
}

func byPrefix(f *metrics.File) map[string]*metrics.Endpoint {
	out := map[string]*metrics.Endpoint{}
	for _, e := range f.Endpoints {
		out[e.Prefix()] = e
	}
	return out
}

func TestSeedExperimentCountsMatchServer(t *testing.T) {
	for _, source := range []struct{ name, proto string }{
		{"reflection", ""},
		{"proto file", "  protoFile: $REPO/test/apps/routeguide/app/route_guide.proto\n"},
	} {
		t.Run(source.name, func(t *testing.T) {
			s, host := startRouteGuide(t)
			f := run(t, `
tasks: [grpc]
grpc:
  host: `+host+`
  total: 200
  concurrency: 8
`+source.proto+`  endpoints:
    getFeature:
      call: routeguide.RouteGuide.GetFeature
      dataFile: $REPO/test/data/grpc/unary.json
    listFeatures:
      call: routeguide.RouteGuide.ListFeatures
      dataFile: $REPO/test/data/grpc/server.json
`)
			eps := byPrefix(f)
			type counts struct{ Requests, Errors, Server int64 }
			got := map[string]counts{
				"grpc-getFeature":   {eps["grpc-getFeature"].RequestCount, eps["grpc-getFeature"].ErrorCount, s.Count("GetFeature")},
				"grpc-listFeatures": {eps["grpc-listFeatures"].RequestCount, eps["grpc-listFeatures"].ErrorCount, s.Count("ListFeatures")},
			}
			want := map[string]counts{"grpc-getFeature": {200, 0, 200}, "grpc-listFeatures": {200, 0, 200}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var names []string
			for _, e := range f.Endpoints {
				values, _, _ := e.Values()
				for k := range values {
					names = append(names, k)
				}
			}
			if !strings.Contains(eps["grpc-listFeatures"].Note, "one call per stream") {
				t.Errorf("listFeatures note = %q, want it to say streams count once", eps["grpc-listFeatures"].Note)
			}
			if len(names) != 2*13 {
				t.Errorf("%d metrics, want 13 per endpoint: %v", len(names), names)
			}
		})
	}
}

func TestReflectionAndProtoGiveSameNames(t *testing.T) {
	_, host := startRouteGuide(t)
	names := func(proto string) []string {
		f := run(t, "tasks: [grpc]\ngrpc: {host: "+host+", call: routeguide.RouteGuide.GetFeature, total: 10"+proto+"}\n")
		values, _, _ := f.Endpoints[0].Values()
		var out []string
		for k := range values {
			out = append(out, k)
		}
		return out
	}
	if diff := cmp.Diff(names(""), names(", protoFile: $REPO/test/apps/routeguide/app/route_guide.proto"), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("reflection vs proto (-reflection +proto):\n%s", diff)
	}
}

func TestErrorStatusAndDelay(t *testing.T) {
	s, host := startRouteGuide(t)
	f := run(t, `
tasks: [grpc]
grpc:
  host: `+host+`
  call: routeguide.RouteGuide.GetFeature
  data: {latitude: 1, longitude: 2}
  total: 60
  concurrency: 4
  endpoints:
    failing: {metadata: {x-fail-code: "13"}}
    slow: {metadata: {x-delay-ms: "20"}}
`)
	eps := byPrefix(f)
	failing := eps["grpc-failing"]
	if failing.RequestCount != 60 || failing.ErrorCount != 60 || s.Count("GetFeature") != 120 {
		t.Errorf("failing: %d calls, %d errors, server saw %d in all; want 60, 60, 120", failing.RequestCount, failing.ErrorCount, s.Count("GetFeature"))
	}
	if got := failing.StatusCodes["Internal"]; got != 60 {
		t.Errorf("failing status codes = %v, want 60 Internal", failing.StatusCodes)
	}
	values, _, _ := eps["grpc-slow"].Values()
	if p50 := values["grpc-slow/latency/p50"]; p50 < 20 || p50 > 25 {
		t.Errorf("grpc-slow/latency/p50 = %.3f ms, want within [20, 25]", p50)
	}
	if eps["grpc-slow"].ErrorCount != 0 {
		t.Errorf("slow endpoint errors: %v", eps["grpc-slow"].Errors)
	}
}

func TestRateAndSkipFirstAndWarmup(t *testing.T) {
	s, host := startRouteGuide(t)
	start := time.Now()
	f := run(t, `
tasks: [grpc]
grpc:
  host: `+host+`
  call: routeguide.RouteGuide.GetFeature
  endpoints:
    rated: {rps: 50, duration: 2s, concurrency: 5}
    skipped: {total: 30, skipFirst: 10, concurrency: 2}
    warmed: {total: 20, warmupNumRequests: 15, concurrency: 2}
`)
	eps := byPrefix(f)
	if got := eps["grpc-rated"].RequestCount; got < 95 || got > 105 {
		t.Errorf("rated: %d calls at 50/s for 2s, want 100 +/- 5", got)
	}
	if took := time.Since(start); took < 1800*time.Millisecond {
		t.Errorf("run took %v, want the 2s the rated endpoint asks", took)
	}
	if got := eps["grpc-skipped"].RequestCount; got != 20 {
		t.Errorf("skipped: %d calls in the metrics, want 30 - 10", got)
	}
	if got := eps["grpc-warmed"].RequestCount; got != 20 {
		t.Errorf("warmed: %d calls in the metrics, want 20", got)
	}
	wantServer := eps["grpc-rated"].RequestCount + 30 + 20 + 15 // skipped calls are part of the total
	if got := s.Count("GetFeature"); got != wantServer {
		t.Errorf("server saw %d calls, want %d (warmup and skipped calls included)", got, wantServer)
	}
}

func TestUnreachableHostIsErrorsNotBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	for _, proto := range []string{"", ", protoFile: $REPO/test/apps/routeguide/app/route_guide.proto"} {
		f := run(t, "tasks: [grpc]\ngrpc: {host: "+dead+", call: routeguide.RouteGuide.GetFeature, total: 20, concurrency: 2"+proto+"}\n")
		e := f.Endpoints[0]
		if e.RequestCount != 20 || e.ErrorCount != 20 || e.Latency.TotalCount() != 0 {
			t.Errorf("proto %q: %d calls, %d errors, %d latencies; want 20, 20, 0", proto, e.RequestCount, e.ErrorCount, e.Latency.TotalCount())
		}
		if e.StatusCodes["Unavailable"] != 20 {
			t.Errorf("status codes %v, want 20 Unavailable", e.StatusCodes)
		}
	}
}

func TestPrepareBadInput(t *testing.T) {
	_, host := startRouteGuide(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.proto"), []byte("syntax = \"proto3\";\nmessage P {\n  int32 x = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noReflection := grpcServerWithoutReflection(t)
	files := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(repo(t), "test"))))
	defer files.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/x.json"
	ln.Close()
	for _, tc := range []struct{ name, yaml, want string }{{
		name: "proto does not parse",
		yaml: "grpc: {host: " + host + ", call: a.B.C, protoFile: " + dir + "/broken.proto}",
		want: `grpc.protoFile: the proto does not compile: broken.proto:4:1: syntax error: expecting ';'; fix it, or check it with protoc`,
	}, {
		name: "call not in the proto",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeatures, protoFile: $REPO/test/apps/routeguide/app/route_guide.proto}",
		want: `grpc.call: "routeguide.RouteGuide.GetFeatures": service routeguide.RouteGuide has no method GetFeatures; it has GetFeature, ListFeatures, RecordRoute, RouteChat`,
	}, {
		name: "service not on the server",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuid.GetFeature}",
		want: `grpc.call: "routeguide.RouteGuid.GetFeature": the server at ` + host + ` has no service routeguide.RouteGuid; it has grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection, routeguide.RouteGuide`,
	}, {
		name: "data does not match the message",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, data: {lat: 1}}",
		want: `grpc.data: does not match message routeguide.Point: unknown field "lat"; use the field names of the proto`,
	}, {
		name: "TLS CA file missing",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, insecure: false, cacert: " + dir + "/ca.pem}",
		want: `grpc.cacert: cannot read "` + dir + `/ca.pem": no such file or directory; give a path relative to the experiment file, or an absolute one`,
	}, {
		name: "no reflection and no proto",
		yaml: "grpc: {host: " + noReflection + ", call: routeguide.RouteGuide.GetFeature}",
		want: `grpc.host: the server at ` + noReflection + ` does not serve reflection; give protoFile or protoURL`,
	}, {
		name: "dataURL unreachable",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, dataURL: " + deadURL + "}",
		want: `grpc.dataURL: cannot fetch "` + deadURL + `": dial tcp ` + strings.TrimSuffix(strings.TrimPrefix(deadURL, "http://"), "/x.json") + `: connect: connection refused; check the URL is reachable from where the step runs`,
	}, {
		name: "protoURL and dataURL that work",
		yaml: "grpc: {host: " + host + ", call: routeguide.RouteGuide.ListFeatures, protoURL: " + files.URL + "/apps/routeguide/app/route_guide.proto, dataURL: " + files.URL + "/data/grpc/server.json}",
		want: "",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			eps, err := prepare(t, "tasks: [grpc]\n"+tc.yaml+"\n")
			if tc.want == "" {
				if err != nil || len(eps) != 1 || !eps[0].ServerStreaming || !strings.Contains(string(eps[0].Data), "latitude") {
					t.Errorf("Prepare = %v, %v; want one server-streaming endpoint with the seed's data", eps, err)
				}
				return
			}
			if !badinput.Is(err) {
				t.Fatalf("Prepare = %v, want bad input", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBadGRPCInput(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"host without port", "grpc: {host: routeguide.default, call: a.B.C}", `x.yaml: grpc.host: "routeguide.default" has no port; write host:port, e.g. routeguide.default:50051`},
		{"call without service", "grpc: {host: h:1, call: GetFeature}", `x.yaml: grpc.call: "GetFeature" is not a method name; write package.Service.Method, e.g. routeguide.RouteGuide.GetFeature`},
		{"CA file without TLS", "grpc: {host: h:1, call: a.B.C, cacert: ca.pem}", `x.yaml: grpc.cacert: a CA file means TLS, but insecure is true (the default); add insecure: false`},
		{"total and numRequests", "grpc: {host: h:1, call: a.B.C, total: 5, numRequests: 5}", `x.yaml: grpc.numRequests: numRequests and total are the same setting; remove one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := experiment.Parse([]byte("tasks: [grpc]\n"+tc.yaml+"\n"), "x.yaml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("Parse = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// grpcServerWithoutReflection serves no services at all on loopback.
func grpcServerWithoutReflection(t *testing.T) string {
	t.Helper()
	s := grpc.NewServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String()
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

const getFeature = "call: routeguide.RouteGuide.GetFeature, protoFile: $REPO/test/apps/routeguide/app/route_guide.proto"

func TestServerSeesTheAskedConnections(t *testing.T) {
	for _, tc := range []struct {
		name, traffic string
		// phases is 2 with a warmup: each phase opens its own connections.
		phases int
	}{
		{"count", "total: 400", 1},
		{"duration", "duration: 1s", 1},
		{"rated count", "total: 60, rps: 100", 1},
		{"rated duration", "duration: 1s, rps: 60", 1},
		{"count with warmup", "total: 100, warmupNumRequests: 50", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, host := startRouteGuide(t)
			f := run(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", concurrency: 6, connections: 3, metadata: {x-delay-ms: '5'}, "+tc.traffic+"}\n")
			if e := f.Endpoints[0]; e.ErrorCount != 0 {
				t.Errorf("%d errors: %v", e.ErrorCount, e.Errors)
			}
			// A phase's connections close as the next one's open, so with
			// a warmup the server may see both for a moment.
			if got := s.Conns.Peak(); got < 3 || (tc.phases == 1 && got != 3) {
				t.Errorf("the server saw at most %d connections open at once, want the 3 asked", got)
			}
			if got := s.Conns.Accepted(); got != 3*tc.phases {
				t.Errorf("the server accepted %d connections, want 3 per phase", got)
			}
			waitClosed(t, s.Conns)
		})
	}
}

func TestCancelReturnsWhatWasMeasured(t *testing.T) {
	for _, tc := range []struct{ name, delay string }{
		{"server answers", "20"},
		{"server hangs", "60000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, host := startRouteGuide(t)
			eps, err := prepare(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", duration: 1m, concurrency: 4, metadata: {x-delay-ms: '"+tc.delay+"'}}\n")
			if err != nil {
				t.Fatal(err)
			}
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
			want := regexp.MustCompile(`^grpc: stopped after 0\.[5-9]s of 1m0s \(terminated signal received\); ` + strconv.FormatInt(e.RequestCount, 10) + ` calls measured$`)
			if !want.MatchString(f.Stopped) {
				t.Errorf("Stopped = %q, want it to match %s", f.Stopped, want)
			}
			if tc.delay == "20" && e.RequestCount < 20 {
				t.Errorf("%d calls measured in 0.7s at concurrency 4 and 20ms each, want 20 or more", e.RequestCount)
			}
			waitClosed(t, s.Conns)
		})
	}
}

func TestDurationRunAllocatesLittle(t *testing.T) {
	_, host := startRouteGuide(t)
	eps, err := prepare(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", duration: 300ms, concurrency: 2, metadata: {x-delay-ms: '20'}}\n")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := (&Work{Endpoints: eps}).Run(context.Background())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Endpoints[0].RequestCount; n < 10 {
		t.Fatalf("%d calls in 300ms at concurrency 2 and 20ms each, want 10 or more", n)
	}
	// About 30 calls: anything near ghz's 64 MB of details for an
	// open-ended run means memory grows with what might be sent.
	// The loop's ballast is fixed, and never written; the heap it
	// prefaults is fixed too, and let go before the load.
	if got := after.TotalAlloc - before.TotalAlloc - uint64(load.Ballast()+load.PrefaultBytes()); got > 16<<20 {
		t.Errorf("a 300ms run allocated %d MB, want under 16 MB", got>>20)
	}
}

// slowReturn is a ghz Requester whose Run, once ghz's Run has returned
// (and closed the channel Stop sends on), signals returned and lingers,
// so that a stop lands in the window after ghz's Run returned and before
// runOrAbort sees it.
type slowReturn struct {
	*runner.Requester
	returned chan struct{}
}

func (s slowReturn) Run() (*runner.Report, error) {
	rep, err := s.Requester.Run()
	close(s.returned)
	time.Sleep(5 * time.Millisecond)
	return rep, err
}

// requester makes a ghz Requester of n calls for ep, as the engine does.
func requester(t *testing.T, ep Endpoint, n int) (*runner.Requester, *guard) {
	t.Helper()
	r, g, err := (&engine{ep: ep}).newRequester(load.NewGate(int64(n), 0), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, g
}

func TestStopAroundRunsReturnNeitherPanicsNorHangs(t *testing.T) {
	s, host := startRouteGuide(t)
	eps, err := prepare(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", concurrency: 2}\n")
	if err != nil {
		t.Fatal(err)
	}
	ep := eps[0]
	finished := func(name string, f func() (*runner.Report, error)) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := f(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
		select {
		case <-done:
		// ghz's Run ends by closing its connections and waiting, up to
		// 10s, to see them shut down; it can miss the change and wait
		// the 10s (a race in ghz's connectionOnState), stop or no stop.
		case <-time.After(12 * time.Second):
			stacks := make([]byte, 1<<20)
			t.Fatalf("%s: still running 12s later; goroutines:\n%s", name, stacks[:runtime.Stack(stacks, true)])
		}
	}
	// The stop lands after ghz's Run has returned, every time.
	for i := range 20 {
		reqr, g := requester(t, ep, 3)
		r := slowReturn{reqr, make(chan struct{})}
		abort, cancel := context.WithCancel(context.Background())
		go func() { <-r.returned; cancel() }()
		finished("stop after Run returned #"+strconv.Itoa(i), func() (*runner.Report, error) { return runOrAbort(abort, r, g) })
		cancel()
	}
	// The stop lands anywhere from before the first call to after the
	// last one.
	before := s.Count("GetFeature")
	for i := range 200 {
		abort, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Duration(i%40)*50*time.Microsecond, cancel)
		finished("stop at "+strconv.Itoa(i%40*50)+"µs", func() (*runner.Report, error) {
			r, g := requester(t, ep, 4)
			return runOrAbort(abort, r, g)
		})
		cancel()
	}
	if got := s.Count("GetFeature") - before; got == 0 || got == 800 {
		t.Errorf("the server saw %d of the 800 calls: the stops all came before or all after the calls", got)
	}
}

func TestBatchesKeepEveryResult(t *testing.T) {
	for _, tc := range []struct {
		name, traffic   string
		calls, measured int64
	}{
		{"count", "total: 520", 520, 520},
		{"skipFirst across batches", "total: 130, skipFirst: 60", 130, 70},
		{"rated duration", "duration: 1s, rps: 220", 220, 220},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, host := startRouteGuide(t)
			eps, err := prepare(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", concurrency: 4, connections: 2, "+tc.traffic+"}\n")
			if err != nil {
				t.Fatal(err)
			}
			// Requesters of 50 calls, one after another, each with its
			// own 2 connections.
			w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), ProgressEvery: time.Second, batch: 50}
			f, err := w.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			e := f.Endpoints[0]
			type counts struct{ Measured, Latencies, OK, Server, Connections int64 }
			want := counts{tc.measured, tc.measured, tc.measured, tc.calls, 2 * ((tc.calls + 49) / 50)}
			got := counts{e.RequestCount, e.Latency.TotalCount(), e.StatusCodes["OK"], s.Count("GetFeature"), int64(s.Conns.Accepted())}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			waitClosed(t, s.Conns)
		})
	}
}

// TestSlowCloseKeepsTheRate: ghz's Run ends by closing its connections
// and can wait 10s to see one closed (a race in its connectionOnState);
// the next Requester must not wait for that, or a load at a rate loses
// the calls it should have sent meanwhile (seen: 150 of 220 calls in
// 1s, then 10s of nothing). Here the second Requester's Run returns 3s
// late: every call is still sent within the second, recorded, and the
// load is timed until its last call ended.
func TestSlowCloseKeepsTheRate(t *testing.T) {
	s, host := startRouteGuide(t)
	eps, err := prepare(t, "tasks: [grpc]\ngrpc: {host: "+host+", "+getFeature+", concurrency: 4, connections: 2, duration: 1s, rps: 220}\n")
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil)), batch: 50, closed: func() {
		if runs.Add(1) == 2 {
			time.Sleep(3 * time.Second)
		}
	}}
	start := time.Now()
	f, err := w.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	e := f.Endpoints[0]
	type counts struct{ Measured, OK, Server, Runs int64 }
	want := counts{220, 220, 220, 5}
	got := counts{e.RequestCount, e.StatusCodes["OK"], s.Count("GetFeature"), runs.Load()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if e.DurationSeconds > 1.5 {
		t.Errorf("the load was timed %.2fs; want about 1s (until its last call ended, not until ghz closed)", e.DurationSeconds)
	}
	if took < 3*time.Second {
		t.Errorf("Run returned after %v, before the slow Requester had returned (3s)", took)
	}
}

// TestTemplatesFilledOnlyWhenAsked: ghz fills template actions in data
// and metadata for every call ({{.RequestNumber}}); the engine turns
// ghz's templates off when there is none (they cost most of ghz's
// allocations), and must still send a value with braces but no action
// as it is, and fill one that has an action.
func TestTemplatesFilledOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name, md string
		want     func(seen []string) string
	}{
		{"plain", `x-req: "plain {not a template}"`, func(seen []string) string {
			return cmp.Diff(slices.Repeat([]string{"plain {not a template}"}, 20), seen)
		}},
		{"templated", `x-req: "call {{.RequestNumber}}"`, func(seen []string) string {
			var want []string
			for i := range 20 {
				want = append(want, "call "+strconv.Itoa(i))
			}
			return cmp.Diff(want, seen, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			see := grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				md, _ := metadata.FromIncomingContext(ctx)
				mu.Lock()
				seen = append(seen, md.Get("x-req")...)
				mu.Unlock()
				return h(ctx, req)
			})
			s, host, err := app.Start("127.0.0.1:0", see)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.GRPC.Stop)
			eps, err := prepare(t, "tasks: [grpc]\ngrpc:\n  host: "+host+"\n  call: routeguide.RouteGuide.GetFeature\n  data: {latitude: 1, longitude: 2}\n  total: 20\n  concurrency: 2\n  metadata: {"+tc.md+"}\n")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := templated(eps[0]), tc.name == "templated"; got != want {
				t.Errorf("templated = %v, want %v", got, want)
			}
			w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
			f, err := w.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if e := f.Endpoints[0]; e.RequestCount != 20 || e.ErrorCount != 0 {
				t.Fatalf("%d calls, %d errors (%v); want 20 without error", e.RequestCount, e.ErrorCount, e.Errors)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := tc.want(seen); diff != "" {
				t.Errorf("x-req the server saw (-want +got):\n%s", diff)
			}
		})
	}
}
