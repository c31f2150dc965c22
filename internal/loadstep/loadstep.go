// Package loadstep is what the load steps (internal/httpstep,
// internal/grpcstep) share: how the metrics of a load that ended are
// written, and how a stop is told. It links neither load generator.
//
// A load step stopped by SIGTERM (Tekton's cancel and timeout) or SIGINT
// ends within 5 s: the load returns what it measured so far, the step
// writes it to <dir>/<task>.metrics.json (marked stopped) and ends with an
// error, so the command exits 3.
package loadstep

import (
	"context"
	"errors"
	"fmt"

	"github.com/autox-tekton/autox/internal/metrics"
)

// Save writes f, when there is one, to dir/<task>.metrics.json, and
// returns how the load ended: runErr, or a sentence saying the load was
// stopped and where what it measured went.
func Save(ctx context.Context, task, dir string, f *metrics.File, runErr error) error {
	path := metrics.PathFor(dir, task)
	var writeErr error
	if f != nil {
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
