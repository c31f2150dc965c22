// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"time"
)

// Fixed-rate accuracy: at a fixed rate on a server that stalls, latency
// measured from each request's intended send time has a p99 that the
// stall implies (see stallImplied); a closed loop (hey, ghz) stops
// sending during the stall and misses it.

const (
	stallEvery = 5 * time.Second
	stallFor   = time.Second
	// fixedRate is the total rate; fixedWorkers send it (hey: -c 4 -q 50,
	// its -q being per worker).
	fixedRate     = 200
	fixedWorkers  = 4
	fixedDuration = 20 * time.Second
)

// fixedRateGoal: ours within 10% of the stall-implied p99.
func fixedRateGoal() Goal { return Within(0.90, 1.10) }

// stallArgs make a sample app stall.
func stallArgs() []string {
	return []string{"-addr", "127.0.0.1:0", "-stall-every", stallEvery.String(), "-stall-for", stallFor.String()}
}

func fixedRateName(task, unit string) string {
	return fmt.Sprintf("%s p99 at %d %s/s -c %d, %s, stall %s/%s", task, fixedRate, unit, fixedWorkers, fixedDuration, stallFor, stallEvery)
}

// fixedRateNotes say what the implied value leaves out and what ours sent.
func fixedRateNotes(task, metric string, sent int64, took float64) []string {
	return []string{
		fmt.Sprintf("stall-implied p99 = stall * (1 - 0.01 / (stall/every)), service time (about a ms here) left out; ours is %s from cmd/%s's metrics file, %d sent in %.1fs", metric, task, sent, took),
	}
}

// httpFixedRate is cmd/http's p99 at 200 requests/s on a stalling
// httpbin, with hey's (-c 4 -q 50) beside it.
func (s *suite) httpFixedRate(ctx context.Context) Row {
	name := fixedRateName("http", "requests")
	implied, err := stallImplied(stallEvery, stallFor, 99)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	srv, err := startServer(ctx, s.serverCore, s.path("httpbin"), stallArgs()...)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	defer s.stopServer(srv)
	url := "http://" + srv.addr + "/get"
	e, _, err := s.ourStep(ctx, "http", fixedDuration+time.Minute, func(string) (string, error) {
		return fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  duration: %s\n  connections: %d\n  qps: %d\n", url, fixedDuration, fixedWorkers, fixedRate), nil
	})
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	ours, metric, err := p99(e)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	r, err := runClient(ctx, s.clientCore, fixedDuration+time.Minute, s.path("hey"),
		"-c", fmt.Sprint(fixedWorkers), "-q", fmt.Sprint(fixedRate/fixedWorkers), "-z", fixedDuration.String(), url)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	h, err := parseHey(r.stdout)
	if err == nil && h.P99 == 0 {
		err = fmt.Errorf("hey printed no 99%% line:\n%s", tail(r.stdout, 20))
	}
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	row := measured(name, Figure{"cmd/http", ours, "s"}, Figure{"stall-implied", implied.Seconds(), "s"}, fixedRateGoal(),
		fixedRateNotes("http", metric, e.RequestCount, e.DurationSeconds)...)
	row.Beside = []Figure{{Label: fmt.Sprintf("hey -c %d -q %d p99", fixedWorkers, fixedRate/fixedWorkers), Value: h.P99.Seconds(), Unit: "s"}}
	return row
}

// grpcFixedRate is cmd/grpc's p99 at 200 calls/s on a stalling
// routeguide, with ghz's (--rps 200 -c 4) beside it.
func (s *suite) grpcFixedRate(ctx context.Context) Row {
	name := fixedRateName("grpc", "calls")
	implied, err := stallImplied(stallEvery, stallFor, 99)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	srv, err := startServer(ctx, s.serverCore, s.path("routeguide"), stallArgs()...)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	defer s.stopServer(srv)
	e, _, err := s.ourStep(ctx, "grpc", fixedDuration+time.Minute,
		grpcSpec(srv.addr, fmt.Sprintf("  duration: %s\n  concurrency: %d\n  rps: %d\n", fixedDuration, fixedWorkers, fixedRate)))
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	ours, metric, err := p99(e)
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	g, err := s.ghz(ctx, srv.addr, 0, "-c", fmt.Sprint(fixedWorkers), "--rps", fmt.Sprint(fixedRate), "-z", fixedDuration.String(), "--duration-stop", "wait")
	if err == nil && g.P99 == 0 {
		err = fmt.Errorf("ghz's report has no p99")
	}
	if err != nil {
		return failed(name, fixedRateGoal(), err)
	}
	row := measured(name, Figure{"cmd/grpc", ours, "s"}, Figure{"stall-implied", implied.Seconds(), "s"}, fixedRateGoal(),
		fixedRateNotes("grpc", metric, e.RequestCount, e.DurationSeconds)...)
	row.Beside = []Figure{{Label: fmt.Sprintf("ghz --rps %d -c %d p99", fixedRate, fixedWorkers), Value: g.P99.Seconds(), Unit: "s"}}
	return row
}
