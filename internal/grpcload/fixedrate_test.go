// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package grpcload

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
	"github.com/autox-tekton/autox/test/apps/stall"
)

// TestFixedRateSeesTheStall is httpload's test of the same name for
// calls: 200 calls/s with concurrency 4 against a routeguide that holds
// every call for 200 ms out of every second. The p99 must be what the
// stalls imply, give or take one call interval, and within 10% above it
// (the p95, not above: after each stall 4 workers drain about 40 calls,
// which under the race detector adds several milliseconds); service times
// see only the calls in flight when a stall began.
func TestFixedRateSeesTheStall(t *testing.T) {
	s := stall.New(time.Second, 200*time.Millisecond)
	rg, host, err := app.Start("127.0.0.1:0", s.ServerOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rg.GRPC.Stop)
	eps, err := prepare(t, `
tasks: [grpc]
grpc:
  host: `+host+`
  call: routeguide.RouteGuide.GetFeature
  data: {latitude: 407838351, longitude: -746143763}
  rps: 200
  duration: 4s
  concurrency: 4
`)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	var logs strings.Builder
	w := &Work{Endpoints: eps, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	f, err := w.Run(t.Context())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Log(logs.String())
	e := f.Endpoints[0]
	v, _, _ := e.Values()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	interval := 5 * time.Millisecond
	p99, p95, service := v["grpc/latency/p99"], v["grpc/latency/p95"], v["grpc/service-time/p95"]
	t.Logf("p99 %.1f ms (stall-implied %.1f ms), p95 %.1f ms (%.1f ms), service-time p95 %.1f ms, %d of %d late",
		p99, ms(s.Implied(0.99)), p95, ms(s.Implied(0.95)), service, e.LateCount, e.RequestCount)
	for _, c := range []struct {
		name string
		got  float64
		q    float64
	}{{"p99", p99, 0.99}, {"p95", p95, 0.95}} {
		implied := s.Implied(c.q)
		if c.got < ms(implied-interval) {
			t.Errorf("latency/%s %.1f ms is below the %.1f ms the stalls imply: the stalls are missing from the response times", c.name, c.got, ms(implied))
		}
		if c.q == 0.99 && c.got > 1.1*ms(implied) {
			t.Errorf("latency/%s %.1f ms is more than 10%% above the %.1f ms the stalls imply", c.name, c.got, ms(implied))
		}
	}
	if service > ms(s.Implied(0.95))/4 {
		t.Errorf("service-time/p95 %.1f ms, want far below the stall-implied %.1f ms: a closed loop's view", service, ms(s.Implied(0.95)))
	}
	if e.RequestCount != 800 || e.ErrorCount != 0 {
		t.Errorf("%d calls, %d errors; want 800 (200/s for 4s), none", e.RequestCount, e.ErrorCount)
	}
	if e.LateCount < 100 || e.LateCount > 200 {
		t.Errorf("late-count %d, want about 150 (the calls due while every worker waited on a stall)", e.LateCount)
	}
	want := "grpc: " + strconv.FormatInt(e.LateCount, 10) + " of 800 calls went out more than " + load.LateAfter.String() + " late: all 4 workers were busy; raise grpc.concurrency"
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %q", want)
	}
}
