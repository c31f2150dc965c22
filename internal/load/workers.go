// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// MaxStartAhead bounds how far ahead a start time may be: a worker waits
// for it, and a pod that waits longer is more likely a clock or a typo.
const MaxStartAhead = 10 * time.Minute

// Spread runs a load task as its workers (http.workers): either the one
// worker this step was told to be (Worker, a pod of the run), or, when
// Worker is zero, every worker of the task at once, as goroutines of this
// process (autox run; a step run without -worker). Each worker sends its
// share (experiment.Traffic.Share) and writes its own metrics file; assess
// merges them (metrics.Merge).
type Spread struct {
	// Task is http or grpc.
	Task string
	// Workers is the task's workers key (experiment.Workers).
	Workers int
	// Worker is the one worker to run; zero runs all of them.
	Worker metrics.Worker
	// StartAt, when set, is when the load begins: the workers of a run
	// wait for the same instant. A time past starts at once.
	StartAt time.Time
	// Log gets one line per worker start; each worker's lines carry its
	// worker key.
	Log *slog.Logger
}

// startLead is how far ahead the workers of one process are told to
// start, when no start time is given: time for each to set itself up
// (its ballast, its engines), so that their loads begin together.
const startLead = 100 * time.Millisecond

// Run runs one(ctx, w, startAt, log) for each worker this step runs, all
// at once, each told to begin its load at the same startAt, and returns
// their errors joined, each naming its worker.
func (s Spread) Run(ctx context.Context, one func(ctx context.Context, w metrics.Worker, startAt time.Time, log *slog.Logger) error) error {
	if s.Worker.Index != 0 && s.Worker.Of == 0 {
		// -worker i: worker i of this task's own count, as a pod of a
		// run with workers is told (its tasks may have different counts).
		if s.Worker.Index > max(s.Workers, 1) {
			if s.Log != nil {
				s.Log.Info(fmt.Sprintf("%s: worker %d has no share: %s.workers is %d", s.Task, s.Worker.Index, s.Task, max(s.Workers, 1)))
			}
			return nil
		}
		s.Worker.Of = max(s.Workers, 1)
	}
	if s.Worker.Of != 0 && s.Worker.Of != s.Workers && !(s.Worker.Of == 1 && s.Workers <= 1) {
		return badinput.Field(s.Task+".workers", fmt.Sprintf("%q does not match -worker %s; pass -worker i/%d, or set %s.workers: %d",
			strconv.Itoa(s.Workers), s.Worker, s.Workers, s.Task, s.Worker.Of))
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Worker.Of != 0 || s.Workers <= 1 {
		w := s.Worker
		log := s.Log
		if w.Of > 1 {
			log = log.With("worker", w.String())
		}
		return one(ctx, w, s.StartAt, log)
	}
	startAt := s.StartAt
	if startAt.IsZero() {
		startAt = time.Now().Add(startLead)
	}
	s.Log.Info(fmt.Sprintf("%s: %d workers start together, each with its share of the load", s.Task, s.Workers))
	errs := make([]error, s.Workers)
	var wg sync.WaitGroup
	for i := 1; i <= s.Workers; i++ {
		w := metrics.Worker{Index: i, Of: s.Workers}
		wg.Go(func() {
			if err := one(ctx, w, startAt, s.Log.With("worker", w.String())); err != nil {
				errs[i-1] = fmt.Errorf("worker %d of %d: %w", i, s.Workers, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ParseWorker reads -worker i/N: worker i (1..N) of N (1..experiment.MaxWorkers),
// or -worker i: worker i of the task's own workers (Of zero), which sends
// nothing where the task has fewer.
func ParseWorker(s string) (metrics.Worker, error) {
	if i, err := strconv.Atoi(s); err == nil && i >= 1 && i <= experiment.MaxWorkers {
		return metrics.Worker{Index: i}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, ierr := strconv.Atoi(is)
	n, nerr := strconv.Atoi(ns)
	if !ok || ierr != nil || nerr != nil || n < 1 || n > experiment.MaxWorkers || i < 1 || i > n {
		return metrics.Worker{}, fmt.Errorf("%q is not i/N with 1 <= i <= N <= %d; write e.g. 3/4 (the third of 4 workers), or 3 (the third of the task's workers)", s, experiment.MaxWorkers)
	}
	return metrics.Worker{Index: i, Of: n}, nil
}

// ParseStartAt reads -start-at, an RFC 3339 time at most MaxStartAhead
// after now ("" is none).
func ParseStartAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time; write e.g. 2026-12-05T03:00:00Z", s)
	}
	if ahead := t.Sub(now); ahead > MaxStartAhead {
		return time.Time{}, fmt.Errorf("%q is %s ahead, more than %s; check the clock, or start the workers later", s, ahead.Round(time.Second), MaxStartAhead)
	}
	return t, nil
}

// WaitUntil waits for t (the zero time, or one past, returns at once),
// or until ctx ends.
func WaitUntil(ctx context.Context, t time.Time, log *slog.Logger) error {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		return nil
	}
	if d > time.Second {
		log.Info(fmt.Sprintf("waiting %s for the start time %s", d.Round(time.Second), t.UTC().Format(time.RFC3339)))
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
