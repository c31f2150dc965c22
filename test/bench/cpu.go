package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
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
		dir, clean, err := workDir()
		if err != nil {
			return 0, err
		}
		defer clean()
		exp := filepath.Join(dir, "experiment.yaml")
		spec := fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, n, s.c)
		if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
			return 0, err
		}
		ir, err := s.callgrind(ctx, s.path("http"), "-f", exp, "-dir", dir)
		if err != nil {
			return 0, err
		}
		f, err := metrics.Read(metrics.PathFor(dir, "http"))
		if err != nil {
			return 0, fmt.Errorf("cmd/http: %w", err)
		}
		if e := f.Endpoints[0]; e.RequestCount != int64(n) || e.ErrorCount != 0 {
			return 0, fmt.Errorf("cmd/http under valgrind sent %d requests with %d errors (%v), want %d without", e.RequestCount, e.ErrorCount, e.Errors, n)
		}
		return ir, nil
	}
	hey := func(n int) (int64, error) {
		var out bytes.Buffer
		ir, err := s.callgrindOut(ctx, &out, s.path("hey"), "-n", strconv.Itoa(n), "-c", strconv.Itoa(s.c), url)
		if err != nil {
			return 0, err
		}
		h, err := parseHey(out.String())
		if err == nil && h.Responses[200] != int64(n) {
			err = fmt.Errorf("hey under valgrind got %d responses, want %d", h.Responses[200], n)
		}
		return ir, err
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

// callgrind runs path under callgrind on the client core and returns the
// instructions it executed.
func (s *suite) callgrind(ctx context.Context, path string, args ...string) (int64, error) {
	return s.callgrindOut(ctx, nil, path, args...)
}

// callgrindOut is callgrind that also keeps the program's stdout.
func (s *suite) callgrindOut(ctx context.Context, stdout *bytes.Buffer, path string, args ...string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	vg := append([]string{"-c", s.clientCore, "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", path}, args...)
	cmd := exec.CommandContext(ctx, "taskset", vg...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
	var stderr bytes.Buffer
	if stdout == nil {
		stdout = &bytes.Buffer{}
	}
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	err := cmd.Run()
	m := collected.FindStringSubmatch(stderr.String())
	if err != nil || m == nil {
		return 0, fmt.Errorf("valgrind %s %s: %v\n%s", path, strings.Join(args, " "), err, tail(stdout.String()+stderr.String(), 20))
	}
	return strconv.ParseInt(m[1], 10, 64)
}
