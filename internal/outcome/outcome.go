// Package outcome names how an autox program ends and the exit status of
// each ending, shared by every command:
//
//	0  the experiment ran and every SLO holds (or violations were allowed)
//	1  an SLO does not hold
//	2  bad input: the experiment, a flag or a file; nothing was run
//	3  the experiment failed: a task did not complete, or the program could
//	   not do its work (a file it could not write, a cancelled run)
package outcome

import (
	"errors"

	"github.com/autox-tekton/autox/internal/experiment"
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
	case experiment.IsInput(err):
		return BadInput
	case errors.Is(err, ErrSLOsViolated):
		return Violated
	default:
		return Failed
	}
}
