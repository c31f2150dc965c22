// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autox-tekton/autox/internal/metrics"
)

// The workers rows: closed-loop throughput of cmd/http with its load
// spread over 2 and 4 workers (http.workers), each over 1 worker
// measured in the same rounds, on one httpbin. The same requests in all
// (-n) and the same connections in all (-c, split over the workers), so
// that only the split changes. No goal: informational, since on this
// machine every worker shares the one client core; a run that loses a
// request or sees an error is an error of the row.

// workerMode is how a run's workers run.
type workerMode int

const (
	// goroutines: http.workers N in one step process without -worker,
	// as autox run does.
	goroutines workerMode = iota
	// processes: N step processes, -worker i/N and one -start-at, as the
	// pods of a Tekton run.
	processes
)

func (m workerMode) String() string {
	if m == processes {
		return "processes"
	}
	return "goroutines"
}

// workerVariant is one way to send the load: n workers run as mode.
type workerVariant struct {
	n    int
	mode workerMode
}

// label is the variant's figure label: "1 worker", "4 workers".
func (v workerVariant) label() string {
	if v.n == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers", v.n)
}

func (v workerVariant) String() string {
	if v.n == 1 {
		return "1 worker"
	}
	return fmt.Sprintf("%d workers (%s)", v.n, v.mode)
}

// workerVariants are measured in each round; the first, 1 worker in one
// process, is every row's peer.
func workerVariants() []workerVariant {
	return []workerVariant{{1, goroutines}, {2, goroutines}, {4, goroutines}, {2, processes}, {4, processes}}
}

// processLead is how far ahead the worker processes are told to start
// (-start-at): time for N processes on the one client core to start and
// set themselves up. The wait is not measured: a worker's load begins at
// the start time.
const processLead = 300 * time.Millisecond

// workerOrder is the order the k variants run in round i (from 0): the
// list rotated by i, so that over k rounds each runs first, second, ...
// once, and drift hits each alike.
func workerOrder(k, round int) []int {
	order := make([]int, k)
	for j := range order {
		order[j] = (round + j) % k
	}
	return order
}

// workerShare is worker i's (1..n) requests of total, the split the
// README's Workers section gives: total/n, plus one of the remainder for
// the first total%n workers. Written out here, not taken from
// internal/experiment, so that the row checks the step against the rule.
func workerShare(total int64, i, n int) int64 {
	s := total / int64(n)
	if int64(i) <= total%int64(n) {
		s++
	}
	return s
}

// workersRun is what one run of n workers measured.
type workersRun struct {
	// rps is all the workers' requests over the load's wall span: from
	// the first worker's load start to the last one's end.
	rps float64
	// startSpread is how far apart the workers' loads began.
	startSpread time.Duration
}

// readWorkers reads what n workers of one run left in dir: merged as
// assess merges them (metrics.ReadDir), it checks that they sent total
// requests in all and worker i exactly its share, with no error, every
// latency in the merged histogram, and nobody failed or stopped; then
// each worker's own file for when its load began.
func readWorkers(dir string, total int64, n int) (workersRun, error) {
	files, err := metrics.ReadDir(dir)
	if err != nil {
		return workersRun{}, err
	}
	f := files["http"]
	if f == nil || len(files) != 1 {
		return workersRun{}, fmt.Errorf("%s holds metrics of %d tasks, want http's only", dir, len(files))
	}
	if f.Failed != "" || f.Stopped != "" {
		return workersRun{}, fmt.Errorf("http: %s", strings.TrimSpace(f.Failed+" "+f.Stopped))
	}
	if len(f.Endpoints) != 1 {
		return workersRun{}, fmt.Errorf("http measured %d endpoints, want 1", len(f.Endpoints))
	}
	e := f.Endpoints[0]
	if e.ErrorCount > 0 {
		return workersRun{}, fmt.Errorf("%d of %d requests were errors: %v", e.ErrorCount, e.RequestCount, e.Errors)
	}
	if e.RequestCount != total {
		return workersRun{}, fmt.Errorf("the workers sent %d requests in all, want %d", e.RequestCount, total)
	}
	if got := e.Latency.TotalCount(); got != total {
		return workersRun{}, fmt.Errorf("the merged latency histogram holds %d requests, want %d", got, total)
	}
	var rows []string
	exact := len(e.Workers) == n || n == 1 && len(e.Workers) == 0
	for i, w := range e.Workers {
		rows = append(rows, fmt.Sprintf("worker %d: %d", w.Worker, w.RequestCount))
		exact = exact && w.Worker == i+1 && w.RequestCount == workerShare(total, i+1, n) && w.ErrorCount == 0
	}
	if !exact {
		var want []string
		for i := 1; i <= n && n > 1; i++ {
			want = append(want, fmt.Sprintf("worker %d: %d", i, workerShare(total, i, n)))
		}
		return workersRun{}, fmt.Errorf("the split is not exact: [%s], want [%s]", strings.Join(rows, ", "), strings.Join(want, ", "))
	}
	span := f.EndTime.Sub(f.StartTime)
	if span <= 0 {
		return workersRun{}, fmt.Errorf("the load ran from %s to %s", f.StartTime.Format(time.RFC3339Nano), f.EndTime.Format(time.RFC3339Nano))
	}
	var first, last time.Time
	for i := 1; i <= n; i++ {
		w, err := metrics.Read(metrics.Worker{Index: i, Of: n}.Path(dir, "http"))
		if err != nil {
			return workersRun{}, err
		}
		if first.IsZero() || w.StartTime.Before(first) {
			first = w.StartTime
		}
		if w.StartTime.After(last) {
			last = w.StartTime
		}
	}
	return workersRun{rps: float64(total) / span.Seconds(), startSpread: last.Sub(first)}, nil
}

// workersConnections is each of n workers' connections: c/n (at least
// 1), so that the workers keep c requests in flight in all.
func workersConnections(c, n int) int { return max(1, c/n) }

// httpWorkers measures each workerVariant s.rounds times on one httpbin,
// in rotated order (workerOrder), and gives one row per variant but the
// first, over it.
func (s *suite) httpWorkers(ctx context.Context) []Row {
	vs := workerVariants()
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = fmt.Sprintf("http workers %d vs 1 (%s), -n %d -c %d", v.n, v.mode, s.n, s.c)
	}
	srv, err := startServer(ctx, s.serverCore, s.path("httpbin"), "-addr", "127.0.0.1:0")
	if err != nil {
		return failedAll(err, Goal{}, names[1:]...)
	}
	defer s.stopServer(srv)
	url := "http://" + srv.addr + "/get"
	m := workersMeasured{names: names, rps: make([][]float64, len(vs)), errs: make([]error, len(vs)), spread: make([]time.Duration, len(vs))}
	for r := range s.rounds {
		for _, i := range workerOrder(len(vs), r) {
			if m.errs[i] != nil || m.errs[0] != nil {
				continue
			}
			run, err := s.workersRun(ctx, url, vs[i])
			if err != nil {
				m.errs[i] = fmt.Errorf("%s, round %d: %w", vs[i], r+1, err)
				continue
			}
			m.rps[i] = append(m.rps[i], run.rps)
			m.spread[i] = max(m.spread[i], run.startSpread)
			s.progress("  http workers round %d: %s %.0f requests/s%s", r+1, vs[i], run.rps, spreadNote(vs[i], run.startSpread))
		}
		if len(m.rps[0]) == r+1 {
			var line []string
			for i := 1; i < len(vs); i++ {
				if len(m.rps[i]) == r+1 {
					line = append(line, fmt.Sprintf("%s %.3f", vs[i], m.rps[i][r]/m.rps[0][r]))
				}
			}
			s.progress("  http workers round %d ratios over 1 worker: %s", r+1, strings.Join(line, ", "))
		}
	}
	return workersRows(vs, m, s.n, s.c)
}

func spreadNote(v workerVariant, d time.Duration) string {
	if v.n == 1 {
		return ""
	}
	return fmt.Sprintf(" (loads began within %s)", d.Round(100*time.Microsecond))
}

// workersRun runs the load of v once: s.n requests, s.c connections in
// all, no rate limit.
func (s *suite) workersRun(ctx context.Context, url string, v workerVariant) (workersRun, error) {
	dir, clean, err := workDir()
	if err != nil {
		return workersRun{}, err
	}
	defer clean()
	exp := filepath.Join(dir, "experiment.yaml")
	spec := fmt.Sprintf("tasks: [http]\nhttp:\n  url: %s\n  numRequests: %d\n  connections: %d\n  qps: unlimited\n  workers: %d\n",
		url, s.n, workersConnections(s.c, v.n), v.n)
	if err := os.WriteFile(exp, []byte(spec), 0o644); err != nil {
		return workersRun{}, err
	}
	args := []string{"-f", exp, "-dir", dir}
	if v.mode == goroutines || v.n == 1 {
		if _, err := runClient(ctx, s.clientCore, 2*time.Minute, s.path("http"), args...); err != nil {
			return workersRun{}, err
		}
		return readWorkers(dir, int64(s.n), v.n)
	}
	startAt := time.Now().Add(processLead).UTC().Format(time.RFC3339Nano)
	errs := make([]error, v.n)
	var wg sync.WaitGroup
	for i := 1; i <= v.n; i++ {
		wg.Go(func() {
			_, err := runClient(ctx, s.clientCore, 2*time.Minute, s.path("http"),
				append(args, "-worker", strconv.Itoa(i)+"/"+strconv.Itoa(v.n), "-start-at", startAt)...)
			if err != nil {
				errs[i-1] = fmt.Errorf("worker process %d of %d: %w", i, v.n, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return workersRun{}, err
	}
	return readWorkers(dir, int64(s.n), v.n)
}

// workersMeasured is what the rounds measured, by variant.
type workersMeasured struct {
	// names are the variants' row names.
	names []string
	// rps holds each variant's requests/s, one per round it ran.
	rps [][]float64
	// errs holds each variant's first error; it ran no more rounds.
	errs []error
	// spread is each variant's widest start spread of its workers' loads.
	spread []time.Duration
}

// workersRows is one row per variant but the first: its requests/s over
// the first's (1 worker), the geometric means of the rounds (whose ratio
// is the geometric mean of the rounds' ratios), no goal. A variant that
// failed is an error; when 1 worker failed, every row is.
func workersRows(vs []workerVariant, m workersMeasured, n, c int) []Row {
	if m.errs[0] != nil {
		return failedAll(m.errs[0], Goal{}, m.names[1:]...)
	}
	var rows []Row
	base := m.rps[0]
	for i := 1; i < len(vs); i++ {
		v := vs[i]
		if m.errs[i] != nil {
			rows = append(rows, failed(m.names[i], Goal{}, m.errs[i]))
			continue
		}
		var logO, logT float64
		var ratios []string
		for r, o := range m.rps[i] {
			logO, logT = logO+math.Log(o), logT+math.Log(base[r])
			ratios = append(ratios, fmt.Sprintf("%.3f", o/base[r]))
		}
		k := float64(len(m.rps[i]))
		how := fmt.Sprintf("http.workers: %d in one step process, no -worker", v.n)
		why := "near 1 here: all the workers share the one client core, as 1 worker's connections do; on a cluster the pods land on other nodes' cores"
		if v.mode == processes {
			how = fmt.Sprintf("%d step processes, -worker i/%d and one -start-at %s ahead (loads began within %s of each other)",
				v.n, v.n, processLead, m.spread[i].Round(100*time.Microsecond))
			why = "here N Go runtimes (schedulers, collectors) share the one client core; on a cluster each pod has its own node's cores"
		}
		rows = append(rows, measured(m.names[i],
			Figure{v.label(), math.Exp(logO / k), "requests/s"}, Figure{"1 worker", math.Exp(logT / k), "requests/s"}, Goal{},
			fmt.Sprintf("geometric means of %d rounds, each running 1 worker, 2 and 4 in goroutines, 2 and 4 in processes, in rotated order; each round's ratio: %s", len(ratios), strings.Join(ratios, " ")),
			fmt.Sprintf("%s, %d connections each (%d in all); requests/s over the first worker's load start to the last one's end", how, workersConnections(c, v.n), v.n*workersConnections(c, v.n)),
			fmt.Sprintf("every run sent %d requests in all, worker i exactly its share, no errors (from the metrics files; else the row is an error); no goal: a ratio below 1 does not fail the suite", n),
			why))
	}
	return rows
}
