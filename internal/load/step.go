// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
)

// HoldForReady keeps a load task from sending load at what is not ready.
// When e's tasks list ready before task and dir holds no ready.metrics.json
// that says ready completed (the ready step failed, and recorded why, or
// did not finish), it writes dir/<task>.metrics.json without endpoints,
// marked failed ("no load sent: ..."), logs one line and reports true: the
// step then ends without error, so that assess runs and reports the ready
// task's failure. Otherwise it reports false and writes nothing.
func HoldForReady(e *experiment.Experiment, task, dir string, log *slog.Logger) (bool, error) {
	return HoldWorkerForReady(e, task, dir, metrics.Worker{}, log)
}

// HoldWorkerForReady is HoldForReady for worker w of the task: the file
// it writes is the worker's (metrics.Worker.Path) and says which it is.
func HoldWorkerForReady(e *experiment.Experiment, task, dir string, w metrics.Worker, log *slog.Logger) (bool, error) {
	why := readyMissing(e, task, dir)
	if why == "" {
		return false, nil
	}
	now := time.Now().UTC()
	f := &metrics.File{Task: task, StartTime: now, EndTime: now, Failed: "no load sent: " + why, Worker: w.OrNil()}
	if err := metrics.Write(w.Path(dir, task), f); err != nil {
		return true, fmt.Errorf("%s; recording that no load was sent: %w", f.Failed, err)
	}
	log.Warn(fmt.Sprintf("%s: %s; assess reports it", task, f.Failed))
	return true, nil
}

// readyMissing says why ready, listed before task, did not complete; ""
// when it did, or when it is not listed before task (then it has not run
// yet when task runs under `autox run`, and the Task runs the steps in a
// fixed order: the two agree only on what comes before).
func readyMissing(e *experiment.Experiment, task, dir string) string {
	r, t := slices.Index(e.Tasks, experiment.TaskReady), slices.Index(e.Tasks, task)
	if r < 0 || t < 0 || r > t {
		return ""
	}
	path := metrics.PathFor(dir, experiment.TaskReady)
	f, err := metrics.Read(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("the ready task did not finish (no %s)", path)
	case err != nil:
		return fmt.Sprintf("the ready task's record cannot be read: %v", err)
	case f.Failed != "" || f.Stopped != "":
		return "the ready task failed"
	}
	return ""
}

// Save writes f, when there is one, to dir/<task>.metrics.json, and
// returns how the load ended: runErr, or a sentence saying the load was
// stopped and where what it measured went.
func Save(ctx context.Context, task, dir string, f *metrics.File, runErr error) error {
	return SaveWorker(ctx, task, dir, metrics.Worker{}, f, runErr)
}

// SaveWorker is Save for worker w of the task: f goes to the worker's
// file (metrics.Worker.Path) and says which worker wrote it.
func SaveWorker(ctx context.Context, task, dir string, w metrics.Worker, f *metrics.File, runErr error) error {
	path := w.Path(dir, task)
	var writeErr error
	if f != nil {
		f.Worker = w.OrNil()
		writeErr = metrics.Write(path, f)
	}
	switch {
	case ctx.Err() != nil && runErr != nil:
		cause := context.Cause(ctx)
		switch {
		case writeErr != nil:
			return fmt.Errorf("stopped (%w); could not keep what was measured until then: %v", cause, writeErr)
		case f == nil:
			return fmt.Errorf("stopped (%w); the load returned no metrics, so no %s was written", cause, path)
		}
		return fmt.Errorf("stopped (%w); wrote what was measured until then to %s", cause, path)
	case runErr != nil:
		return errors.Join(runErr, writeErr)
	case f == nil:
		return fmt.Errorf("the %s load returned no metrics and no error; no %s was written", task, path)
	}
	return writeErr
}

// Stopped is the error of a step stopped before its load began (while
// fetching payloads or protos): it says so instead of blaming the input.
// It returns err itself when ctx has not ended.
func Stopped(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("stopped (%w) while preparing the endpoints; no load was sent", context.Cause(ctx))
}
