// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package outcome names how an autox program ends and the exit status of
// each ending, shared by every command:
//
//	0  the experiment ran and every SLO holds (or violations were allowed)
//	1  an SLO does not hold
//	2  bad input: the experiment, a flag or a file; nothing was run
//	3  the experiment failed: a task did not complete, or the program could
//	   not do its work (a file it could not write), or it was stopped
//
// Stopped means SIGTERM (what Tekton sends on cancel and timeout) or
// SIGINT. Every program then ends within 5 s with status 3 and one line on
// stderr that begins "<program>: stopped (terminated signal received)"
// (or "interrupt") and says what was kept:
//
//	ready   no ready.metrics.json: the task did not complete; the line
//	        says what each object was last seen as
//	http,   <dir>/<task>.metrics.json holds what was measured until the
//	grpc    stop (marked "stopped"); the line names it
//	assess  result.json, report.txt and report.html are each whole or
//	        absent (each is written to a temporary file, then renamed)
//	autox   the stopped task's line; the work folder (--out, or a
//	run     temporary one, then kept) holds the metrics; no report
//
// A program whose work does not end within cli.StopGrace of the signal is
// ended anyway, with status 3 and a line that says so.
package outcome

import (
	"errors"

	"github.com/autox-tekton/autox/internal/badinput"
)

// Exit statuses.
const (
	OK       = 0
	Violated = 1
	BadInput = 2
	Failed   = 3
)

// ErrSLOsViolated is returned when the experiment ran but an SLO does not hold.
var ErrSLOsViolated = errors.New("SLOs not satisfied")

// ErrExperimentFailed is returned when a task did not complete.
var ErrExperimentFailed = errors.New("experiment failed")

// Code is the exit status for err.
func Code(err error) int {
	switch {
	case err == nil:
		return OK
	case badinput.Is(err):
		return BadInput
	case errors.Is(err, ErrSLOsViolated):
		return Violated
	default:
		return Failed
	}
}
