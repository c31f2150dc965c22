// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
)

// suite holds the settings of one run of the bench.
type suite struct {
	// bin holds http, grpc, hey, ghz, httpbin and routeguide (make build).
	bin string
	// self is this program, which also serves the rate rows' counting
	// server (count-server).
	self string
	// serverCore and clientCore are taskset -c lists.
	serverCore, clientCore string
	// n, z and c are the throughput rows' request count, duration and
	// connections (concurrency); rounds alternate the tools.
	n      int
	z      time.Duration
	c      int
	rounds int
	// goCmd runs the interceptor's benchmark.
	goCmd string
	// e2eLog is the cluster's e2e log, read for the trigger latency.
	e2eLog string
	// log gets progress lines.
	log io.Writer
}

func (s *suite) progress(format string, args ...any) {
	fmt.Fprintf(s.log, "bench: "+format+"\n", args...)
}

func (s *suite) path(name string) string { return filepath.Join(s.bin, name) }

// ourStep runs cmd/<task> (bin/<task>) on the client core with the
// experiment spec(dir) writes, and returns its one endpoint's metrics.
// Errors among the requests are an error of the measurement.
func (s *suite) ourStep(ctx context.Context, task string, timeout time.Duration, spec func(dir string) (string, error)) (*metrics.Endpoint, ran, error) {
	return s.ourStepBy(ctx, task, spec, func(path string, args ...string) (ran, error) {
		return runClient(ctx, s.clientCore, timeout, path, args...)
	})
}

// ourStepBy is ourStep with the step's process started by run.
func (s *suite) ourStepBy(ctx context.Context, task string, spec func(dir string) (string, error), run func(path string, args ...string) (ran, error)) (*metrics.Endpoint, ran, error) {
	dir, clean, err := workDir()
	if err != nil {
		return nil, ran{}, err
	}
	defer clean()
	text, err := spec(dir)
	if err != nil {
		return nil, ran{}, err
	}
	exp := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(exp, []byte(text), 0o644); err != nil {
		return nil, ran{}, err
	}
	r, err := run(s.path(task), "-f", exp, "-dir", dir)
	if err != nil {
		return nil, r, err
	}
	f, err := metrics.Read(metrics.PathFor(dir, task))
	if err != nil {
		return nil, r, fmt.Errorf("cmd/%s: %w", task, err)
	}
	if len(f.Endpoints) != 1 {
		return nil, r, fmt.Errorf("cmd/%s measured %d endpoints, want 1", task, len(f.Endpoints))
	}
	e := f.Endpoints[0]
	if e.ErrorCount > 0 {
		return nil, r, fmt.Errorf("cmd/%s saw %d errors: %v", task, e.ErrorCount, e.Errors)
	}
	if e.RequestCount == 0 || e.DurationSeconds <= 0 {
		return nil, r, fmt.Errorf("cmd/%s measured %d requests in %gs", task, e.RequestCount, e.DurationSeconds)
	}
	return e, r, nil
}

// p99 is the endpoint's latency p99 by its Iter8 name, in seconds.
func p99(e *metrics.Endpoint) (float64, string, error) {
	name := e.Prefix() + "/latency-p99"
	if e.Task == "grpc" {
		name = e.Prefix() + "/latency/p99"
	}
	values, _, unavailable := e.Values()
	v, ok := values[name]
	if !ok {
		return 0, name, fmt.Errorf("%s unavailable: %s", name, unavailable[name])
	}
	return v / 1000, name, nil
}

// alternate measures ours rounds times, each run between two of theirs
// (theirs, ours, theirs, ours, ..., theirs: rounds+1 of theirs), and
// returns the geometric mean of ours and that of each round's peer, the
// geometric mean of the runs of theirs either side of it; their ratio is
// the geometric mean of the rounds' ratios.
//
// Why bracketed: this machine has slow spells, for every tool alike, of
// one or two runs (a tool's rate moved between about 22k and 30k
// requests/s within minutes on the 2-core EPYC). Rounds that swap who
// goes first (ours, theirs | theirs, ours | ...) put two runs of the
// same tool side by side at every other boundary, and a spell over those
// two counted twice against one side: rounds 0.810 and 0.708 in a row,
// both of ours in one slow spell, took a by-duration row from about 1.02
// to 0.948. Bracketed, a spell over two neighbouring runs (one of each)
// moves one round's ratio up and the next one's down by the same factor,
// which cancel, and a linear drift cancels within each round; a spell
// over one run moves one ratio, as before. The cost is one more run of
// the peer per row. On this machine one tool's throughput spreads by
// about 15% from run to run, so the row uses every round (the median
// round of three was off by up to 20%); the CPU row counts instructions
// for a figure that does not move.
func (s *suite) alternate(name, ourLabel, theirLabel, unit string, goal Goal, ours, theirs func() (float64, error)) Row {
	before, err := theirs()
	if err != nil {
		return failed(name, goal, err)
	}
	var logO, logT float64
	var ratios []string
	for i := range s.rounds {
		o, err := ours()
		if err != nil {
			return failed(name, goal, err)
		}
		after, err := theirs()
		if err != nil {
			return failed(name, goal, err)
		}
		peer := math.Sqrt(before * after)
		logO, logT = logO+math.Log(o), logT+math.Log(peer)
		ratios = append(ratios, fmt.Sprintf("%.3f", o/peer))
		s.progress("  %s round %d: %s %.0f between %s %.0f and %.0f %s, ratio %.3f", name, i+1, ourLabel, o, theirLabel, before, after, unit, o/peer)
		before = after
	}
	n := float64(s.rounds)
	return measured(name, Figure{ourLabel, math.Exp(logO / n), unit}, Figure{theirLabel, math.Exp(logT / n), unit}, goal,
		fmt.Sprintf("geometric means of %d rounds, each run of %s between two of %s (%d of them in all) and its ratio to their geometric mean; each round's ratio: %s",
			s.rounds, ourLabel, theirLabel, s.rounds+1, strings.Join(ratios, " ")))
}

// section runs one part of the suite and logs how long it took.
func (s *suite) section(name string, f func() []Row) []Row {
	start := time.Now()
	s.progress("%s ...", name)
	rows := f()
	s.progress("%s: %s", name, time.Since(start).Round(100*time.Millisecond))
	return rows
}

// failedAll marks every name as failed with err.
func failedAll(err error, goal Goal, names ...string) []Row {
	var rows []Row
	for _, n := range names {
		rows = append(rows, failed(n, goal, err))
	}
	return rows
}

func (s *suite) stopServer(srv *server) {
	if err := srv.stop(); err != nil {
		s.progress("%v", err)
	}
}
