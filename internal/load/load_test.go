// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// The engines (hey, ghz) are tested against real servers in httpload and
// grpcload; these tests hold the loop to its own promises with engines
// that behave in ways a real server only does by chance.

func TestGateGrantsExactlyTheCount(t *testing.T) {
	for _, tc := range []struct {
		name             string
		tickets, workers int
	}{
		{"more tickets than workers", 1000, 16},
		{"fewer tickets than workers", 5, 16},
		{"one worker", 17, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGate(int64(tc.tickets), 0)
			var mu sync.Mutex
			got := 0
			var wg sync.WaitGroup
			for range tc.workers {
				wg.Go(func() {
					for g.Next() {
						mu.Lock()
						got++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if got != tc.tickets || g.Granted() != int64(tc.tickets) {
				t.Errorf("granted %d (Granted says %d), want %d", got, g.Granted(), tc.tickets)
			}
			if g.Open() {
				t.Error("Open after the count was reached")
			}
		})
	}
}

func TestGatePacesTheTotalRate(t *testing.T) {
	g := NewGate(50, 100)
	start := time.Now()
	var wg sync.WaitGroup
	for range 7 {
		wg.Go(func() {
			for g.Next() {
			}
		})
	}
	wg.Wait()
	// Ticket k is due at k/100 s: the 50th at 0.49s.
	if took := time.Since(start); took < 480*time.Millisecond || took > 900*time.Millisecond {
		t.Errorf("50 tickets at 100/s took %v, want about 0.49s", took)
	}
}

func TestGateStopEndsAWait(t *testing.T) {
	g := NewGate(0, 0.001) // the second ticket is due after 1000s
	if !g.Next() {
		t.Fatal("the first ticket was refused")
	}
	got := make(chan bool)
	go func() { got <- g.Next() }()
	time.AfterFunc(50*time.Millisecond, g.Stop)
	select {
	case ok := <-got:
		if ok {
			t.Error("Next granted a ticket after Stop")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still waiting 2s after Stop")
	}
}

func TestRecorderSkipsFirstAndKeepsAll(t *testing.T) {
	r := NewRecorder(2, false)
	for range 3 {
		r.Record(func(add func(Result)) {
			add(Result{Latency: time.Millisecond, Code: "200"})
			add(Result{Latency: 2 * time.Millisecond, Code: "500", Error: "HTTP 500 Internal Server Error"})
			add(Result{NoLatency: true, Error: "connection refused"})
		})
	}
	m := &metrics.Endpoint{}
	r.close(m)
	type got struct {
		Requests, Errors, Latencies int64
		Codes, Msgs                 map[string]int64
	}
	want := got{7, 5, 4, map[string]int64{"200": 2, "500": 2},
		map[string]int64{"HTTP 500 Internal Server Error": 2, "connection refused": 3}}
	if diff := cmp.Diff(want, got{m.RequestCount, m.ErrorCount, m.Latency.TotalCount(), m.StatusCodes, m.Errors}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r.Record(func(add func(Result)) { add(Result{Latency: time.Millisecond}) })
	if m.RequestCount != 7 || m.Latency.TotalCount() != 4 {
		t.Error("a closed recorder took a late batch")
	}
}

// steady sends one request every millisecond per worker while the gate
// grants, recording each as a 1ms success, one batch per request.
type steady struct{ workers int }

func (s steady) Send(abort context.Context, g *Gate, rec *Recorder) error {
	var wg sync.WaitGroup
	for range g.Workers(s.workers) {
		wg.Go(func() {
			for g.Next() {
				select {
				case <-time.After(time.Millisecond):
				case <-abort.Done():
					rec.Record(func(add func(Result)) { add(Result{NoLatency: true, Error: context.Cause(abort).Error()}) })
					return
				}
				rec.Ended(1)
				rec.Record(func(add func(Result)) { add(Result{Latency: time.Millisecond, Code: "OK"}) })
			}
		})
	}
	wg.Wait()
	return nil
}

// hung ignores the gate and the abort until released: a server that
// never answers, behind an engine that cannot cut its requests.
type hung struct{ release chan struct{} }

func (h hung) Send(context.Context, *Gate, *Recorder) error {
	<-h.release
	return nil
}

func endpoint(name string, tr experiment.Traffic, e Engine) Endpoint {
	return Endpoint{Traffic: tr, Metrics: &metrics.Endpoint{Task: "http", Name: name}, Describe: "test", Engine: e}
}

func TestLoopCountsAndDurations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		traffic  experiment.Traffic
		min, max int64
	}{
		{"count", experiment.Traffic{Count: 300, Workers: 4}, 300, 300},
		{"count with warmup", experiment.Traffic{Count: 30, Workers: 4, WarmupCount: 50}, 30, 30},
		{"rated duration sends rate x duration", experiment.Traffic{Duration: 500 * time.Millisecond, Rate: 100, Workers: 4}, 50, 50},
		{"duration", experiment.Traffic{Duration: 300 * time.Millisecond, Workers: 2}, 100, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Loop{Task: "http", Unit: "requests"}.Run(context.Background(), []Endpoint{endpoint("a", tc.traffic, steady{tc.traffic.Workers})})
			if err != nil {
				t.Fatal(err)
			}
			e := f.Endpoints[0]
			if e.RequestCount < tc.min || e.RequestCount > tc.max || e.Latency.TotalCount() != e.RequestCount {
				t.Errorf("%d requests, %d latencies; want %d to %d, all with latency", e.RequestCount, e.Latency.TotalCount(), tc.min, tc.max)
			}
			if f.Stopped != "" {
				t.Errorf("Stopped = %q for a load that ran to its end", f.Stopped)
			}
		})
	}
}

func TestLoopStopsAndSaysWhat(t *testing.T) {
	signal := errors.New("terminated signal received")
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name      string
		eps       []Endpoint
		wantNames []string
		want      string
	}{{
		name: "during the second of three endpoints",
		eps: []Endpoint{
			endpoint("a", experiment.Traffic{Count: 2, Workers: 2}, steady{2}),
			endpoint("b", experiment.Traffic{Duration: time.Minute, Workers: 2}, steady{2}),
			endpoint("c", experiment.Traffic{Count: 20, Workers: 2}, steady{2}),
		},
		wantNames: []string{"http-a", "http-b"},
		want:      "http-b: stopped after 0.3s of 1m0s (terminated signal received); N requests measured; not run: http-c",
	}, {
		name:      "during a warmup",
		eps:       []Endpoint{endpoint("a", experiment.Traffic{Count: 20, Workers: 2, WarmupDuration: time.Minute}, steady{2})},
		wantNames: nil,
		want:      "http-a: stopped during its warmup after 0.3s (terminated signal received); nothing measured",
	}, {
		name:      "by count, engine hung",
		eps:       []Endpoint{endpoint("a", experiment.Traffic{Count: 20, Workers: 2}, hung{release})},
		wantNames: []string{"http-a"},
		want:      "http-a: stopped after 0.3s (terminated signal received); 0 of 20 requests measured",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(300*time.Millisecond, func() { cancel(signal) })
			start := time.Now()
			f, err := Loop{Task: "http", Unit: "requests", Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}.Run(ctx, tc.eps)
			if took := time.Since(start); took > 300*time.Millisecond+Grace+giveUp+300*time.Millisecond {
				t.Errorf("Run returned %v after its start, want within %v of the cancel", took, Grace+giveUp)
			}
			if !errors.Is(err, signal) || !strings.Contains(err.Error(), "load stopped") {
				t.Errorf("err = %v, want a 'load stopped' error wrapping the cause", err)
			}
			if f == nil {
				t.Fatal("no File")
			}
			var names []string
			for _, e := range f.Endpoints {
				names = append(names, e.Prefix())
			}
			if diff := cmp.Diff(tc.wantNames, names); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			// The cancel comes 0.3s after Run starts; the phase may start
			// later (the ballast's 64 MB, a busy machine: 0.2s was seen
			// with four processes on two cores), so its elapsed time can
			// round down to 0.2s or 0.1s.
			got := stoppedAt.ReplaceAllString(f.Stopped, "after 0.3s")
			want := tc.want
			if n := len(f.Endpoints); n > 0 {
				want = strings.Replace(want, " N ", " "+strconv.FormatInt(f.Endpoints[n-1].RequestCount, 10)+" ", 1)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Stopped (-want +got):\n%s\nStopped = %q", diff, f.Stopped)
			}
		})
	}
}

// stoppedAt matches the elapsed time of a stop 0.3s after Run's start.
var stoppedAt = regexp.MustCompile(`after 0\.[123]s`)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// slow sends on one worker, each request taking d, and records its wait
// after its due time as the engines do.
type slow struct{ d time.Duration }

func (s slow) Send(abort context.Context, g *Gate, rec *Recorder) error {
	for {
		due, ok := g.NextDue()
		if !ok {
			return nil
		}
		sent := time.Now()
		select {
		case <-time.After(s.d):
		case <-abort.Done():
			return nil
		}
		rec.Ended(1)
		rec.Record(func(add func(Result)) { add(Result{Latency: time.Since(sent), Wait: Wait(due, sent)}) })
	}
}

// TestLoopSaysWhenItCannotKeepTheRate: 100 requests/s for 0.5s on one
// worker whose requests take 50 ms. The worker keeps up with 20/s: its
// requests go out later and later, each latency counts from its due time,
// and the load stops 1s after its duration with the rest unsent. The log
// says both, and the metrics count the late ones.
func TestLoopSaysWhenItCannotKeepTheRate(t *testing.T) {
	var logs strings.Builder
	ep := endpoint("a", experiment.Traffic{Duration: 500 * time.Millisecond, Rate: 100, Workers: 1}, slow{50 * time.Millisecond})
	ep.Busy = "all 1 connections were busy; raise http.connections"
	f, err := Loop{Task: "http", Unit: "requests", Log: slog.New(slog.NewTextHandler(&logs, nil))}.Run(context.Background(), []Endpoint{ep})
	if err != nil {
		t.Fatal(err)
	}
	e := f.Endpoints[0]
	// About 1.5s / 50ms = 30 sent of the 50 due; all but the first late.
	if e.RequestCount < 20 || e.RequestCount > 32 || e.LateCount != e.RequestCount-1 {
		t.Errorf("%d sent, %d late; want about 30 sent, all but the first late", e.RequestCount, e.LateCount)
	}
	if e.Rate != 100 || e.ServiceTime == nil || e.ServiceTime.Max() > 100_000 || e.Latency.Max() < 900_000 {
		t.Errorf("rate %g, service time max %v µs, latency max %d µs; want 100, about 50 ms, about 1 s (the last request's wait)",
			e.Rate, e.ServiceTime.Max(), e.Latency.Max())
	}
	for _, want := range []string{
		fmt.Sprintf("http-a: %d of %d requests went out more than 10ms late: all 1 connections were busy; raise http.connections", e.LateCount, e.RequestCount),
		fmt.Sprintf("http-a: %d requests were never sent: a load at a rate stops 1s after its duration", 50-e.RequestCount),
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

// tail sends 20 requests of 10ms on one worker, then, like hey's adapter
// reading back its batches' reports, works on for 300ms before Send
// returns; noteEnd says whether it notes the end of its load.
type tail struct{ noteEnd bool }

func (e tail) Send(_ context.Context, g *Gate, rec *Recorder) error {
	for g.Next() {
		time.Sleep(10 * time.Millisecond)
		rec.Record(func(add func(Result)) { add(Result{Latency: 10 * time.Millisecond, Code: "OK"}) })
	}
	if e.noteEnd {
		rec.LoadEnded()
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// TestDurationEndsWithTheLoad: an endpoint's duration is the time its
// requests took, not what the engine does after its last response; an
// engine that does not say when it ended is timed until it returns.
func TestDurationEndsWithTheLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noteEnd  bool
		min, max time.Duration
	}{
		{"noted", true, 200 * time.Millisecond, 450 * time.Millisecond},
		{"not noted", false, 500 * time.Millisecond, 900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Loop{Task: "http", Unit: "requests"}.Run(context.Background(), []Endpoint{endpoint("a", experiment.Traffic{Count: 20, Workers: 1}, tail{tc.noteEnd})})
			if err != nil {
				t.Fatal(err)
			}
			e := f.Endpoints[0]
			if d := time.Duration(e.DurationSeconds * float64(time.Second)); e.RequestCount != 20 || d < tc.min || d > tc.max {
				t.Errorf("%d requests in %s; want 20 in %s to %s", e.RequestCount, d, tc.min, tc.max)
			}
		})
	}
}

func TestBallastFor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		llc   int64
		known bool
		want  int
	}{
		{"480 MiB L3: the largest", 480 << 20, true, 64 << 20},
		{"256 MiB L3: a quarter", 256 << 20, true, 64 << 20},
		{"96 MiB L3: a quarter", 96 << 20, true, 24 << 20},
		{"32 MiB L3 (one Zen 5 CCD): a quarter", 32 << 20, true, 8 << 20},
		{"8 MiB L3: the smallest", 8 << 20, true, 8 << 20},
		{"unknown", 0, false, 16 << 20},
	} {
		if got := BallastFor(tc.llc, tc.known); got != tc.want {
			t.Errorf("%s: BallastFor(%d, %v) = %d MB, want %d MB", tc.name, tc.llc, tc.known, got>>20, tc.want>>20)
		}
	}
}
