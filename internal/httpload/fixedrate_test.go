// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
	"github.com/autox-tekton/autox/test/apps/stall"
)

// ms is a duration in the metrics' unit.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestFixedRateSeesTheStall loads, at 200 requests/s on 4 connections, a
// server that stalls 200 ms out of every second. A closed loop (hey's)
// stops sending while the server stalls and its p99 misses the stall;
// at a fixed rate, the requests due during a stall wait for it, and the
// p99 must be what the stalls imply (190 ms), give or take one request
// interval (the schedule's grain). Service times, measured from each
// actual send as a closed loop measures, see only the 4 requests per stall
// that were in flight when it began: their p95 stays far below the
// stall-implied p95 (150 ms), which the response times reach.
func TestFixedRateSeesTheStall(t *testing.T) {
	s := stall.New(time.Second, 200*time.Millisecond)
	srv := httptest.NewServer(s.Handler(app.New()))
	t.Cleanup(srv.Close)
	var logs syncBuffer
	w := &Work{Endpoints: endpoints(t, `
tasks: [http]
http:
  url: `+srv.URL+`/get
  qps: 200
  duration: 4s
  connections: 4
`), Log: slog.New(slog.NewTextHandler(&logs, nil))}
	f, err := w.Run(t.Context())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Log(logs.String())
	e := f.Endpoints[0]
	v, _, _ := e.Values()
	implied := s.Implied(0.99)
	interval := 5 * time.Millisecond
	p99, p95, service := v["http/latency-p99"], v["http/latency-p95"], v["http/service-time-p95"]
	t.Logf("p99 %.1f ms (stall-implied %.1f ms), p95 %.1f ms (%.1f ms), service-time p95 %.1f ms, %d of %d late",
		p99, ms(implied), p95, ms(s.Implied(0.95)), service, e.LateCount, e.RequestCount)
	if p99 < ms(implied-interval) {
		t.Errorf("latency-p99 %.1f ms is below the %.1f ms the stalls imply: the stalls are missing from the response times", p99, ms(implied))
	}
	if p99 > 1.1*ms(implied) {
		t.Errorf("latency-p99 %.1f ms is more than 10%% above the %.1f ms the stalls imply", p99, ms(implied))
	}
	if p95 < ms(s.Implied(0.95)-interval) {
		t.Errorf("latency-p95 %.1f ms is below the %.1f ms the stalls imply", p95, ms(s.Implied(0.95)))
	}
	if service > ms(s.Implied(0.95))/4 {
		t.Errorf("service-time-p95 %.1f ms, want far below the stall-implied %.1f ms: a closed loop's view", service, ms(s.Implied(0.95)))
	}
	if e.RequestCount != 800 || e.ErrorCount != 0 {
		t.Errorf("%d requests, %d errors; want 800 (200/s for 4s), none", e.RequestCount, e.ErrorCount)
	}
	// The requests due in the stall's last 190 ms go out more than 10 ms
	// late: about 38 per stall, four stalls.
	if e.LateCount < 100 || e.LateCount > 200 {
		t.Errorf("late-count %d, want about 150 (the requests due while every connection waited on a stall)", e.LateCount)
	}
	want := "http: " + itoa(int(e.LateCount)) + " of 800 requests went out more than " + load.LateAfter.String() + " late: all 4 connections were busy; raise http.connections"
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %q", want)
	}
}

// TestPairWithErrors pairs hey's responses with the worker's send records
// when transport errors (missing from hey's lists) come between them.
func TestPairWithErrors(t *testing.T) {
	t0 := heyStart.Add(time.Hour)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	off := func(d time.Duration) float64 { return at(d).Sub(heyStart).Seconds() }
	sends := []send{
		{at: at(100 * time.Nanosecond), due: at(0)},                             // response 0
		{at: at(2*time.Millisecond + 100), due: at(time.Millisecond)},           // an error
		{at: at(3*time.Millisecond + 100), due: at(3 * time.Millisecond)},       // response 1
		{at: at(30*time.Millisecond + 100), due: at(10 * time.Millisecond)},     // response 2, 20 ms late
		{at: at(31*time.Millisecond + 100), due: time.Time{}},                   // an error, no rate
		{at: at(32*time.Millisecond + 100), due: at(32*time.Millisecond + 200)}, // response 3, early
	}
	rep := &heyReport{
		Res: make([]float64, 4), StatusCodes: make([]int, 4), rated: true,
		Offsets: []float64{off(0), off(3 * time.Millisecond), off(30 * time.Millisecond), off(32 * time.Millisecond)},
	}
	got, err := pair(rep, sends)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{100, 100, 20*time.Millisecond + 100, 0, time.Millisecond + 100, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	rep.Offsets = append(rep.Offsets, off(40*time.Millisecond))
	rep.Res, rep.StatusCodes = append(rep.Res, 0), append(rep.StatusCodes, 200)
	if _, err := pair(rep, sends); err == nil || !strings.Contains(err.Error(), "response 5 of 5 started after the last request was sent") {
		t.Errorf("a response after the last send: error %v", err)
	}
}
