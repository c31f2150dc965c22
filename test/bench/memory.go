// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/bojand/ghz/runner"
	"github.com/rakyll/hey/requester"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/grpcload"
	"github.com/autox-tekton/autox/internal/httpload"
	routeguide "github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// Memory rows: the peak RSS of a load step that records 1M requests, and
// the heap allocations it makes per request; hey is the peer of both.
// The issue sets no goal for either; the suite's is "no more than hey".

const (
	memRequests    = 1_000_000
	memConnections = 16
	// allocRequests are sent in process to count allocations.
	allocRequests = 20_000
)

func memGoal() Goal { return AtMost(1.0) }

const mb = 1 << 20

// httpbinRow runs row against a fresh httpbin on the server core.
func (s *suite) httpbinRow(ctx context.Context, name string, goal Goal, row func(ctx context.Context, name, url string) Row) Row {
	srv, err := startServer(ctx, s.serverCore, s.path("httpbin"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failed(name, goal, err)
	}
	defer s.stopServer(srv)
	return row(ctx, name, "http://"+srv.addr+"/get")
}

// memory is the peak-RSS row.
func (s *suite) memory(ctx context.Context) Row {
	return s.httpbinRow(ctx, fmt.Sprintf("http peak RSS, -n %d -c %d", memRequests, memConnections), memGoal(), s.peakRSS)
}

// allocations is the allocations row.
func (s *suite) allocations(ctx context.Context) Row {
	return s.httpbinRow(ctx, fmt.Sprintf("http allocations/request, -n %d -c %d", allocRequests, memConnections), memGoal(), s.allocs)
}

// peakRSS runs bin/http and hey -n 1M, each its own process on the
// client core, and compares their ru_maxrss.
func (s *suite) peakRSS(ctx context.Context, name, url string) Row {
	e, ours, err := s.ourStep(ctx, "http", 10*time.Minute, func(string) (string, error) {
		return fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, memRequests, memConnections), nil
	})
	if err == nil && e.RequestCount != memRequests {
		err = fmt.Errorf("cmd/http sent %d requests, want %d", e.RequestCount, memRequests)
	}
	if err != nil {
		return failed(name, memGoal(), err)
	}
	hey, err := runClient(ctx, s.clientCore, 10*time.Minute, s.path("hey"), "-n", strconv.Itoa(memRequests), "-c", strconv.Itoa(memConnections), url)
	if err != nil {
		return failed(name, memGoal(), err)
	}
	h, err := parseHey(hey.stdout)
	if err == nil && h.Responses[200] != memRequests {
		err = fmt.Errorf("hey got %d responses, want %d", h.Responses[200], memRequests)
	}
	if err != nil {
		return failed(name, memGoal(), err)
	}
	if ours.peakRSS == 0 || hey.peakRSS == 0 {
		return failed(name, memGoal(), fmt.Errorf("no peak RSS from the kernel (cmd/http %d, hey %d bytes)", ours.peakRSS, hey.peakRSS))
	}
	return measured(name, Figure{"cmd/http", float64(ours.peakRSS) / mb, "MB"}, Figure{"hey", float64(hey.peakRSS) / mb, "MB"}, memGoal(),
		fmt.Sprintf("ru_maxrss of each process (MB = 2^20 bytes); cmd/http sent %.0f requests/s, hey %.0f", float64(e.RequestCount)/e.DurationSeconds, h.RPS))
}

// allocs counts the heap allocations (runtime.MemStats.Mallocs) of a
// whole run in this process, over the requests sent: httpload.Work (the
// http step's engine, metrics included) against hey's requester.Work
// (its summary included), after a warmup run of each. The server is
// another process, so its allocations do not count.
func (s *suite) allocs(ctx context.Context, name, url string) Row {
	ours := func(n int) (float64, error) {
		e, err := experiment.Parse(fmt.Appendf(nil, "tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n", url, n, memConnections), "bench")
		if err != nil {
			return 0, err
		}
		w := &httpload.Work{Endpoints: e.HTTPEndpoints()}
		before := mallocs()
		f, err := w.Run(ctx)
		after := mallocs()
		if err != nil {
			return 0, fmt.Errorf("httpload.Work: %w", err)
		}
		ep := f.Endpoints[0]
		if ep.ErrorCount > 0 || ep.RequestCount != int64(n) {
			return 0, fmt.Errorf("httpload.Work sent %d requests with %d errors, want %d without", ep.RequestCount, ep.ErrorCount, n)
		}
		return float64(after-before) / float64(n), nil
	}
	hey := func(n int) (float64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		// The request the step sends, header for header: each header is
		// an allocation when net/http copies them.
		req.Header.Set("User-Agent", httpload.UserAgent)
		var out bytes.Buffer
		w := &requester.Work{Request: req, N: n, C: memConnections, Timeout: 20, Writer: &out}
		before := mallocs()
		w.Init()
		w.Run()
		after := mallocs()
		// Each of hey's C workers sends N/C requests: N%C are dropped.
		sent := int64(n / memConnections * memConnections)
		h, err := parseHey(out.String())
		if err == nil && h.Responses[200] != sent {
			err = fmt.Errorf("hey's requester.Work got %d responses, want %d", h.Responses[200], sent)
		}
		if err != nil {
			return 0, err
		}
		return float64(after-before) / float64(sent), nil
	}
	var o, h float64
	var err error
	for _, n := range []int{1600, allocRequests} {
		if o, err = ours(n); err != nil {
			return failed(name, memGoal(), err)
		}
		if h, err = hey(n); err != nil {
			return failed(name, memGoal(), err)
		}
	}
	return measured(name, Figure{"httpload.Work", o, "allocs/request"}, Figure{"requester.Work", h, "allocs/request"}, memGoal(),
		fmt.Sprintf("runtime.MemStats.Mallocs over a whole run in the bench process (GOMAXPROCS %d), after a warmup of 1600 requests each", runtime.GOMAXPROCS(0)))
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// grpcAllocations is the allocations row of gRPC: grpcload.Work against
// ghz's runner.Run, on one routeguide, counted as allocs counts them.
func (s *suite) grpcAllocations(ctx context.Context) Row {
	name := fmt.Sprintf("grpc allocations/call, -n %d -c %d", allocRequests, memConnections)
	srv, err := startServer(ctx, s.serverCore, s.path("routeguide"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failed(name, memGoal(), err)
	}
	defer s.stopServer(srv)
	dir, clean, err := workDir()
	if err != nil {
		return failed(name, memGoal(), err)
	}
	defer clean()
	ours := func(n int) (float64, error) {
		spec, err := grpcSpec(srv.addr, fmt.Sprintf("  total: %d\n  concurrency: %d\n", n, memConnections))(dir)
		if err != nil {
			return 0, err
		}
		e, err := experiment.Parse([]byte(spec), "bench")
		if err != nil {
			return 0, err
		}
		eps, err := grpcload.Prepare(ctx, &http.Client{}, e.GRPCEndpoints())
		if err != nil {
			return 0, err
		}
		w := &grpcload.Work{Endpoints: eps}
		before := mallocs()
		f, err := w.Run(ctx)
		after := mallocs()
		if err != nil {
			return 0, fmt.Errorf("grpcload.Work: %w", err)
		}
		ep := f.Endpoints[0]
		if ep.ErrorCount > 0 || ep.RequestCount != int64(n) {
			return 0, fmt.Errorf("grpcload.Work made %d calls with %d errors, want %d without", ep.RequestCount, ep.ErrorCount, n)
		}
		return float64(after-before) / float64(n), nil
	}
	proto := filepath.Join(dir, routeguide.ProtoName)
	ghz := func(n int) (float64, error) {
		before := mallocs()
		rep, err := runner.Run(grpcCall, srv.addr, runner.WithProtoFile(proto, nil), runner.WithInsecure(true),
			runner.WithDataFromJSON(grpcData), runner.WithTotalRequests(uint(n)), runner.WithConcurrency(uint(memConnections)))
		after := mallocs()
		if err != nil {
			return 0, fmt.Errorf("ghz's runner.Run: %w", err)
		}
		if len(rep.ErrorDist) > 0 || rep.Count != uint64(n) {
			return 0, fmt.Errorf("ghz's runner.Run made %d calls with errors %v, want %d without", rep.Count, rep.ErrorDist, n)
		}
		return float64(after-before) / float64(n), nil
	}
	var o, g float64
	for _, n := range []int{1600, allocRequests} {
		if o, err = ours(n); err != nil {
			return failed(name, memGoal(), err)
		}
		if g, err = ghz(n); err != nil {
			return failed(name, memGoal(), err)
		}
	}
	return measured(name, Figure{"grpcload.Work", o, "allocs/call"}, Figure{"runner.Run", g, "allocs/call"}, memGoal(),
		fmt.Sprintf("runtime.MemStats.Mallocs over a whole run in the bench process (GOMAXPROCS %d), after a warmup of 1600 calls each; ours parses the proto (grpcload.Prepare) before the count, ghz inside runner.Run", runtime.GOMAXPROCS(0)))
}
