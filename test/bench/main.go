// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command bench is autox's benchmark suite (make bench). Each row is a
// ratio measured in this run: ours over a peer (hey, wrk, ghz), a formula
// or a goal, with the goal of the ratio and pass or miss. Servers (the
// sample apps, built by make build, and this program's count-server) run
// as their own processes pinned to one core, load generators pinned to
// the other (taskset -c). The table goes to stdout and the rows, as
// JSON, to -json; progress goes to stderr.
//
// Rows: closed-loop throughput of cmd/http against the hey CLI (by count
// and by duration) and wrk, and of cmd/grpc against the ghz CLI, each
// run of ours between two of the peer's, the geometric mean of the
// rounds' ratios;
// cmd/http's throughput with its load split over 2 and 4 workers
// (http.workers), as goroutines of one process and as processes with
// -worker i/N -start-at, over 1 worker's, the same requests in all
// (informational: no goal; a run that loses requests or sees an error
// fails the row); instructions per request of cmd/http and hey (valgrind); fixed-rate accuracy, our p99
// at 200 requests/s on a server that stalls 1s every 5s over the p99 the
// stall implies (hey's and ghz's beside it); rate accuracy at 10, 1000
// and 10000 requests/s, counted at the server; peak RSS over 1M requests
// and heap allocations per request, hey as the peer (ghz's runner for
// gRPC allocations); the interceptor's decisions/s and p99 over their
// goals; the label-to-PipelineRun latency from the last e2e log, when
// there is one.
//
// The table's header and the JSON's "machine" say what the suite ran on
// (CPU model, family and model, CPUs, last-level cache, kernel, the Go
// that built the measured programs, valgrind), so that figures from two
// machines can be told apart.
//
// Exit status: 0 every row that could run here was measured (goals
// missed are "miss"; a row this machine cannot measure, such as the CPU
// row where valgrind cannot run the programs, is "not measured" with
// its one-line reason; neither is a failure), 1 a row's measurement
// failed, 2 bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sections of the suite, in the order they run.
func sections() []string {
	return []string{"throughput", "workers", "cpu", "fixed-rate", "rate", "memory", "allocs", "interceptor", "e2e"}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "count-server" {
		if err := countServer(ctx, args[1:], stdout); err != nil {
			fmt.Fprintln(stderr, "bench count-server:", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &suite{log: stderr}
	fs.StringVar(&s.bin, "bin", "bin", "folder with http, grpc, hey, ghz, httpbin and routeguide (make build)")
	jsonPath := fs.String("json", "bin/bench.json", "where to write the rows as JSON")
	fs.IntVar(&s.n, "n", 20000, "requests (calls) per throughput run by count")
	fs.DurationVar(&s.z, "z", 4*time.Second, "duration of each throughput run by duration")
	fs.IntVar(&s.c, "c", 16, "connections (HTTP) and concurrency (gRPC) of the throughput runs")
	fs.IntVar(&s.rounds, "rounds", 6, "throughput rounds; each runs both tools once")
	fs.StringVar(&s.serverCore, "server-core", "auto", "taskset -c list for the servers; auto: the first CPU this process may run on")
	fs.StringVar(&s.clientCore, "client-core", "auto", "taskset -c list for the load generators; auto: the second CPU this process may run on")
	fs.StringVar(&s.goCmd, "go", "go", "go command that runs the interceptor's benchmark")
	fs.StringVar(&s.e2eLog, "e2e-log", ".cluster/logs/e2e.log", "the last make e2e log, read for the label-to-PipelineRun latency")
	only := fs.String("only", strings.Join(sections(), ","), "comma-separated sections to run: "+strings.Join(sections(), ", "))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	want := strings.Split(*only, ",")
	for _, w := range want {
		if !slices.Contains(sections(), w) {
			fmt.Fprintf(stderr, "bench: -only: %q is not a section; write some of %s, comma-separated\n", w, strings.Join(sections(), ","))
			return 2
		}
	}
	if s.n < 1 || s.c < 1 || s.rounds < 1 || s.z < time.Second {
		fmt.Fprintf(stderr, "bench: -n %d -c %d -rounds %d -z %s: want -n, -c and -rounds of at least 1 and -z of at least 1s\n", s.n, s.c, s.rounds, s.z)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	s.self = self

	if s.serverCore == "auto" || s.clientCore == "auto" {
		server, client, note, err := pickCores(allowedCPUs())
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		if note != "" {
			fmt.Fprintln(stderr, "bench: "+note)
		}
		if s.serverCore == "auto" {
			s.serverCore = server
		}
		if s.clientCore == "auto" {
			s.clientCore = client
		}
	}
	machine := thisMachine(s.bin)
	s.progress("machine: %s", machine)
	start := time.Now()
	var rows []Row
	add := func(section string, f func() []Row) {
		if slices.Contains(want, section) && ctx.Err() == nil {
			rows = append(rows, s.section(section, f)...)
		}
	}
	add("throughput", func() []Row { return append(s.httpThroughput(ctx), s.grpcThroughput(ctx)...) })
	add("workers", func() []Row { return s.httpWorkers(ctx) })
	add("cpu", func() []Row { return []Row{s.httpInstructions(ctx)} })
	add("fixed-rate", func() []Row { return []Row{s.httpFixedRate(ctx), s.grpcFixedRate(ctx)} })
	add("rate", func() []Row { return s.rates(ctx) })
	add("memory", func() []Row { return []Row{s.memory(ctx)} })
	add("allocs", func() []Row { return []Row{s.allocations(ctx), s.grpcAllocations(ctx)} })
	add("interceptor", func() []Row { return s.interceptor(ctx) })
	add("e2e", func() []Row { return []Row{s.labelLatency()} })
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: stopped:", context.Cause(ctx))
		return 1
	}

	rep := NewReport(time.Now(), machine, s.serverCore, s.clientCore, rows)
	fmt.Fprintf(stdout, "\nautox benchmark suite, %s, %s: servers on core %s, load on core %s (taskset -c); ratio = ours / peer\nmachine: %s\n\n",
		rep.Date, time.Since(start).Round(time.Second), s.serverCore, s.clientCore, machine)
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if err := writeJSON(*jsonPath, rep); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nrows as JSON: %s\n", *jsonPath)
	if rep.Failed() {
		fmt.Fprintln(stderr, "bench: some rows could not be measured (verdict error); see their notes")
		return 1
	}
	return 0
}

// writeJSON writes the report to path through a temporary file, so a
// reader never sees half of it.
func writeJSON(path string, rep Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bench-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := rep.WriteJSON(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
