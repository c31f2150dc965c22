// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
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
//
// valgrind cannot run every program on every CPU: its decoder stops at
// an instruction it does not know (valgrind 3.19 knows no AVX-512, for
// one), raises SIGILL, and the Go program dies with a register dump and
// exit status 2. When a program that runs here natively dies like that
// under valgrind, the row is tried once more with Go's optional CPU
// features off (GODEBUG=cpu.all=off, both tools alike); if it still
// dies, the row is "not measured" with one line that names the
// instruction and where it is, and the suite goes on.
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
	spec := func(n int) func(string) (string, error) {
		return func(string) (string, error) {
			return fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, n, s.c), nil
		}
	}
	// Both programs run natively first: a crash under valgrind is then
	// valgrind's, not theirs.
	if _, _, err := s.ourStep(ctx, "http", time.Minute, spec(cpuCounts[0])); err != nil {
		return failed(name, cpuGoal(), err)
	}
	if _, err := runClient(ctx, s.clientCore, time.Minute, s.path("hey"), "-n", strconv.Itoa(cpuCounts[0]), "-c", strconv.Itoa(s.c), url); err != nil {
		return failed(name, cpuGoal(), err)
	}
	ours := func(godebug string, n int) (ran, error) {
		e, r, err := s.ourStepBy(ctx, "http", spec(n), s.underCallgrind(ctx, godebug))
		if err == nil && e.RequestCount != int64(n) {
			err = fmt.Errorf("cmd/http under valgrind sent %d requests, want %d", e.RequestCount, n)
		}
		return r, err
	}
	hey := func(godebug string, n int) (ran, error) {
		r, err := s.underCallgrind(ctx, godebug)(s.path("hey"), "-n", strconv.Itoa(n), "-c", strconv.Itoa(s.c), url)
		if err != nil {
			return r, err
		}
		h, err := parseHey(r.stdout)
		if err == nil && h.Responses[200] != int64(n) {
			err = fmt.Errorf("hey under valgrind got %d responses, want %d", h.Responses[200], n)
		}
		return r, err
	}
	per := func(label, godebug string, run func(string, int) (ran, error)) (float64, string, error) {
		var ir [2]int64
		for i, n := range cpuCounts {
			r, err := run(godebug, n)
			if err == nil {
				ir[i], err = instructions(r)
			}
			if err != nil {
				if why, ok := valgrindCannot(r.stderr); ok {
					return 0, "", &cannotRun{program: label, why: why}
				}
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
	var cannot *cannotRun
	for _, godebug := range []string{"", "cpu.all=off"} {
		o, oNote, err := per("cmd/http", godebug, ours)
		var h float64
		var hNote string
		if err == nil {
			h, hNote, err = per("hey", godebug, hey)
		}
		if errors.As(err, &cannot) {
			s.progress("  %s: %s", name, cannot)
			continue
		}
		if err != nil {
			return failed(name, cpuGoal(), err)
		}
		how := "valgrind --tool=callgrind, GOMAXPROCS=1, asynchronous preemption off"
		if godebug != "" {
			how += ", GODEBUG=" + godebug + " (" + cannot.String() + " with Go's CPU features on)"
		}
		return measured(name, Figure{"cmd/http", o, "instructions/request"}, Figure{"hey", h, "instructions/request"}, cpuGoal(),
			fmt.Sprintf("%s; per request = (count at %d - count at %d) / %d: %s; %s; the goal is the throughput goal (>= 0.95 of hey) as CPU per request",
				how, cpuCounts[1], cpuCounts[0], cpuCounts[1]-cpuCounts[0], oNote, hNote))
	}
	return Row{Name: name, Goal: cpuGoal(), Verdict: NotMeasured, Notes: []string{cannot.String() + ", with Go's CPU features on or off"}}
}

// cannotRun is a program that runs natively and dies under valgrind.
type cannotRun struct {
	program string
	// why is valgrindCannot's line.
	why string
}

func (c *cannotRun) Error() string { return c.String() }
func (c *cannotRun) String() string {
	return "valgrind cannot run " + c.program + " on this CPU: " + c.why
}

// Lines valgrind and Go print when valgrind cannot run a program.
var (
	unhandledBytes = regexp.MustCompile(`unhandled instruction bytes: ((?:0x[0-9A-Fa-f]{2} ?)+)`)
	unrecognisedAt = regexp.MustCompile(`Unrecognised instruction at address 0x[0-9A-Fa-f]+\.\s*\n==\d+==\s+at 0x[0-9A-Fa-f]+: (.+)`)
	fatalSignal    = regexp.MustCompile(`(?m)^(SIG[A-Z]+: .+)$|Process terminating with default action of signal \d+ \((SIG[A-Z]+)\)|(valgrind: the 'impossible' happened.*)`)
)

// valgrindCannot reads valgrind's stderr for a program that died under
// it: the instruction its decoder stopped at, and where; or the fatal
// signal. ok is false when the output shows no such death.
func valgrindCannot(stderr string) (why string, ok bool) {
	if m := unhandledBytes.FindStringSubmatch(stderr); m != nil {
		bytes := strings.Fields(m[1])
		why = "its decoder does not know the instruction " + strings.Join(bytes[:min(len(bytes), 6)], " ")
		if at := unrecognisedAt.FindStringSubmatch(stderr); at != nil {
			why += " at " + strings.TrimSpace(at[1])
		}
		return why + " (SIGILL)", true
	}
	if m := fatalSignal.FindStringSubmatch(stderr); m != nil {
		for _, g := range m[1:] {
			if g != "" {
				return "it died of " + strings.TrimSpace(g), true
			}
		}
	}
	return "", false
}

// underCallgrind runs a program under callgrind on the client core, with
// GODEBUG's asyncpreemptoff=1 and godebug, if any.
func (s *suite) underCallgrind(ctx context.Context, godebug string) func(path string, args ...string) (ran, error) {
	env := []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1"}
	if godebug != "" {
		env[1] += "," + godebug
	}
	return func(path string, args ...string) (ran, error) {
		return runClientUnder(ctx, s.clientCore, 5*time.Minute, env,
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
