// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"flag"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/metrics"
)

// WorkerFlags are the load steps' -worker and -start-at flags.
type WorkerFlags struct {
	worker, startAt *string
}

// AddWorkerFlags adds -worker (AUTOX_WORKER) and -start-at
// (AUTOX_START_AT) to fs and their env twins to env.
func AddWorkerFlags(fs *flag.FlagSet, env map[string]string) *WorkerFlags {
	env["worker"], env["start-at"] = "AUTOX_WORKER", "AUTOX_START_AT"
	return &WorkerFlags{
		worker:  fs.String("worker", "", "i/N: send only worker i's share of the load (of the experiment's workers N) and write <task>-w<i>.metrics.json; empty runs all N workers here"),
		startAt: fs.String("start-at", "", "RFC 3339 time to start the load at (at most 10m ahead), so that the workers of a run start together"),
	}
}

// Parse reads the flags; now bounds -start-at. Its errors are bad input
// that names the flag.
func (f *WorkerFlags) Parse(now time.Time) (metrics.Worker, time.Time, error) {
	var w metrics.Worker
	if *f.worker != "" {
		var err error
		if w, err = load.ParseWorker(*f.worker); err != nil {
			return w, time.Time{}, badinput.Field("-worker", err.Error())
		}
	}
	at, err := load.ParseStartAt(*f.startAt, now)
	if err != nil {
		return w, time.Time{}, badinput.Field("-start-at", err.Error())
	}
	return w, at, nil
}
