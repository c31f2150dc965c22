// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// The CPU row: instructions per request of cmd/http and of the hey CLI,
// counted by valgrind's callgrind. On this machine the throughput of one
// tool spreads by +-15% from run to run while its client core is busy
// all along (a shared host: the same instructions take more or less
// time), so a few rounds of requests/s cannot tell 0.95 from 1.0. An
// instruction count is the same in every run, and on a saturated client
// core it is what throughput is made of.
//
// Each tool runs at two counts and the row takes the difference, so that
// what a run does once (reading the experiment, writing the report,
// parsing flags) does not count. Go under valgrind: one P (GOMAXPROCS=1,
// as taskset gives the throughput rows) and no asynchronous preemption
// (callgrind fails on the signal it sends). gRPC is not measured this
// way: ghz's and our grpc step crash under valgrind (a nil check Go turns
// into a panic through SIGSEGV).

// cpuCounts are the two request counts of the CPU row.
var cpuCounts = [2]int{2000, 10000}

// cpuGoal is the throughput goal (at least 0.95 of hey) as CPU per
// request: at most 1/0.95 of hey's.
func cpuGoal() Goal { return AtMost(1.05) }

// collected is callgrind's summary line of instructions executed.
var collected = regexp.MustCompile(`Collected : (\d+)`)

// httpInstructions is cmd/http against the hey CLI on one httpbin.
func (s *suite) httpInstructions(ctx context.Context) Row {
	name := fmt.Sprintf("http CPU instructions/request, -c %d (callgrind)", s.c)
	if _, err := exec.LookPath("valgrind"); err != nil {
		return failed(name, cpuGoal(), fmt.Errorf("valgrind is not installed (test/bench/deps.sh installs it): %v", err))
	}
	srv, err := startServer(ctx, s.serverCore, s.path("httpbin"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failed(name, cpuGoal(), err)
	}
	defer s.stopServer(srv)
	url := "http://" + srv.addr + "/get"
	ours := func(n int) (int64, error) {
		e, r, err := s.ourStepBy(ctx, "http", func(string) (string, error) {
			return fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, n, s.c), nil
		}, s.underCallgrind(ctx))
		if err == nil && e.RequestCount != int64(n) {
			err = fmt.Errorf("cmd/http under valgrind sent %d requests, want %d", e.RequestCount, n)
		}
		if err != nil {
			return 0, err
		}
		return instructions(r)
	}
	hey := func(n int) (int64, error) {
		r, err := s.underCallgrind(ctx)(s.path("hey"), "-n", strconv.Itoa(n), "-c", strconv.Itoa(s.c), url)
		if err != nil {
			return 0, err
		}
		h, err := parseHey(r.stdout)
		if err == nil && h.Responses[200] != int64(n) {
			err = fmt.Errorf("hey under valgrind got %d responses, want %d", h.Responses[200], n)
		}
		if err != nil {
			return 0, err
		}
		return instructions(r)
	}
	per := func(label string, run func(int) (int64, error)) (float64, string, error) {
		var ir [2]int64
		for i, n := range cpuCounts {
			var err error
			if ir[i], err = run(n); err != nil {
				return 0, "", err
			}
			s.progress("  %s: %s, %d requests: %d instructions", name, label, n, ir[i])
		}
		if ir[1] <= ir[0] {
			return 0, "", fmt.Errorf("%s: %d instructions for %d requests, %d for %d: more requests should cost more", label, ir[0], cpuCounts[0], ir[1], cpuCounts[1])
		}
		return float64(ir[1]-ir[0]) / float64(cpuCounts[1]-cpuCounts[0]),
			fmt.Sprintf("%s %d and %d instructions", label, ir[0], ir[1]), nil
	}
	o, oNote, err := per("cmd/http", ours)
	if err != nil {
		return failed(name, cpuGoal(), err)
	}
	h, hNote, err := per("hey", hey)
	if err != nil {
		return failed(name, cpuGoal(), err)
	}
	return measured(name, Figure{"cmd/http", o, "instructions/request"}, Figure{"hey", h, "instructions/request"}, cpuGoal(),
		fmt.Sprintf("valgrind --tool=callgrind, GOMAXPROCS=1, asynchronous preemption off; per request = (count at %d - count at %d) / %d: %s; %s; the goal is the throughput goal (>= 0.95 of hey) as CPU per request",
			cpuCounts[1], cpuCounts[0], cpuCounts[1]-cpuCounts[0], oNote, hNote))
}

// underCallgrind runs a program under callgrind on the client core.
func (s *suite) underCallgrind(ctx context.Context) func(path string, args ...string) (ran, error) {
	return func(path string, args ...string) (ran, error) {
		return runClientUnder(ctx, s.clientCore, 5*time.Minute, []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1"},
			[]string{"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"}, path, args...)
	}
}

// instructions is what callgrind counted for a run.
func instructions(r ran) (int64, error) {
	m := collected.FindStringSubmatch(r.stderr)
	if m == nil {
		return 0, fmt.Errorf("valgrind printed no instruction count:\n%s", tail(r.stderr, 20))
	}
	return strconv.ParseInt(m[1], 10, 64)
}
