// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	routeguide "github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// Throughput rows: closed loop (no rate limit), the same server, the
// same connections; requests/s of ours over the peer's.

// throughputGoal: at least 0.95 of the peer (1.0 is the aim).
func throughputGoal() Goal { return AtLeast(0.95) }

// httpThroughput is cmd/http against hey by count and by duration, and
// against wrk by duration, on one httpbin.
func (s *suite) httpThroughput(ctx context.Context) []Row {
	byCount := fmt.Sprintf("http vs hey, -n %d -c %d", s.n, s.c)
	byDuration := fmt.Sprintf("http vs hey, -z %s -c %d", s.z, s.c)
	vsWrk := fmt.Sprintf("http vs wrk -t1, -d %s -c %d", wrkDuration(s.z), s.c)
	srv, err := startServer(ctx, s.serverCore, s.path("httpbin"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failedAll(err, throughputGoal(), byCount, byDuration, vsWrk)
	}
	defer s.stopServer(srv)
	url := "http://" + srv.addr + "/get"
	ours := func(amount string) func() (float64, error) {
		return func() (float64, error) {
			e, _, err := s.ourStep(ctx, "http", 2*time.Minute, func(string) (string, error) {
				return fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  %s\n  connections: %d\n  qps: unlimited\n", url, amount, s.c), nil
			})
			if err != nil {
				return 0, err
			}
			return float64(e.RequestCount) / e.DurationSeconds, nil
		}
	}
	hey := func(args ...string) func() (float64, error) {
		return func() (float64, error) {
			r, err := runClient(ctx, s.clientCore, 2*time.Minute, s.path("hey"), append(args, "-c", strconv.Itoa(s.c), url)...)
			if err != nil {
				return 0, err
			}
			h, err := parseHey(r.stdout)
			return h.RPS, err
		}
	}
	wrk := func() (float64, error) {
		r, err := runClient(ctx, s.clientCore, 2*time.Minute, "wrk", "-t1", "-c"+strconv.Itoa(s.c), "-d"+wrkDuration(s.z), url)
		if err != nil {
			return 0, err
		}
		return parseWrk(r.stdout)
	}
	unit := "requests/s"
	return []Row{
		s.alternate(byCount, "cmd/http", "hey", unit, throughputGoal(), ours(fmt.Sprintf("numRequests: %d", s.n)), hey("-n", strconv.Itoa(s.n))),
		s.alternate(byDuration, "cmd/http", "hey", unit, throughputGoal(), ours("duration: "+s.z.String()), hey("-z", s.z.String())),
		// wrk (C, one event loop) is a reference, not a goal: the goal is
		// hey's, the engine the step is built on.
		s.alternate(vsWrk, "cmd/http", "wrk", unit, Goal{}, ours("duration: "+s.z.String()), wrk),
	}
}

// wrkDuration is d in wrk's notation: whole seconds (at least 1).
func wrkDuration(d time.Duration) string {
	return strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))) + "s"
}

// The routeguide call of every gRPC row.
const (
	grpcCall = "routeguide.RouteGuide.GetFeature"
	grpcData = `{"latitude": 407838351, "longitude": -746143763}`
)

// grpcSpec is an experiment of the grpc task at host; extra lines set the
// amount, the concurrency and the rate.
func grpcSpec(host string, extra string) func(dir string) (string, error) {
	return func(dir string) (string, error) {
		proto := filepath.Join(dir, routeguide.ProtoName)
		if err := os.WriteFile(proto, []byte(routeguide.Proto), 0o644); err != nil {
			return "", err
		}
		return fmt.Sprintf("tasks: [grpc]\ngrpc:\n  host: %s\n  call: %s\n  protoFile: %s\n  data: %s\n%s", host, grpcCall, proto, grpcData, extra), nil
	}
}

// ghz runs the ghz CLI on the client core with the proto the steps use.
func (s *suite) ghz(ctx context.Context, host string, want int64, args ...string) (GhzResult, error) {
	dir, clean, err := workDir()
	if err != nil {
		return GhzResult{}, err
	}
	defer clean()
	proto := filepath.Join(dir, routeguide.ProtoName)
	if err := os.WriteFile(proto, []byte(routeguide.Proto), 0o644); err != nil {
		return GhzResult{}, err
	}
	all := append([]string{"--insecure", "--proto", proto, "--call", grpcCall, "-d", grpcData, "-O", "json"}, args...)
	r, err := runClient(ctx, s.clientCore, 2*time.Minute, s.path("ghz"), append(all, host)...)
	if err != nil {
		return GhzResult{}, err
	}
	return parseGhz([]byte(r.stdout), want)
}

// grpcThroughput is cmd/grpc against ghz by count and by duration, on
// one routeguide.
func (s *suite) grpcThroughput(ctx context.Context) []Row {
	byCount := fmt.Sprintf("grpc vs ghz, -n %d -c %d", s.n, s.c)
	byDuration := fmt.Sprintf("grpc vs ghz, -z %s -c %d", s.z, s.c)
	srv, err := startServer(ctx, s.serverCore, s.path("routeguide"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failedAll(err, throughputGoal(), byCount, byDuration)
	}
	defer s.stopServer(srv)
	ours := func(amount string) func() (float64, error) {
		return func() (float64, error) {
			e, _, err := s.ourStep(ctx, "grpc", 2*time.Minute, grpcSpec(srv.addr, fmt.Sprintf("  %s\n  concurrency: %d\n", amount, s.c)))
			if err != nil {
				return 0, err
			}
			return float64(e.RequestCount) / e.DurationSeconds, nil
		}
	}
	ghz := func(want int64, args ...string) func() (float64, error) {
		return func() (float64, error) {
			g, err := s.ghz(ctx, srv.addr, want, append(args, "-c", strconv.Itoa(s.c))...)
			return g.RPS, err
		}
	}
	unit := "calls/s"
	return []Row{
		s.alternate(byCount, "cmd/grpc", "ghz", unit, throughputGoal(), ours(fmt.Sprintf("total: %d", s.n)), ghz(int64(s.n), "-n", strconv.Itoa(s.n))),
		// By duration, calls in flight at the end finish (as ours do)
		// rather than fail.
		s.alternate(byDuration, "cmd/grpc", "ghz", unit, throughputGoal(), ours("duration: "+s.z.String()), ghz(0, "-z", s.z.String(), "--duration-stop", "wait")),
	}
}
