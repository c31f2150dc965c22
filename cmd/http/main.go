// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command http is the http step: it sends the experiment's HTTP load through
// rakyll/hey and writes <dir>/http.metrics.json.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/httpload"
	"github.com/autox-tekton/autox/internal/logging"
)

const usage = `http: send an experiment's http load and write http.metrics.json

When the experiment's tasks list does not name http, it says so and exits 0.
When they list ready before http and <dir>/ready.metrics.json does not say
that ready completed, it sends no load, says so in one line, writes
http.metrics.json marked failed and exits 0, so that assess runs and
reports the ready failure.

With $AUTOX_FILE_ROOTS set (absolute folders separated by ':', as the Task
sets it), payloadFile is read only from those folders, a relative path from
the first; set but empty, no file is read. payloadURL is never fetched from
a link-local address (cloud metadata).

With the experiment's http.workers N above 1, the load is spread over
N workers, each sending its share and writing http-w<i>.metrics.json:
with -worker i/N only worker i (a pod of the run), without it all N at
once in this process. -start-at makes a worker wait for a shared start.

Exit status: 0 the load ran (errors among the requests are metrics, judged
by assess) or was held after a failed ready, 2 bad input (a flag, the
experiment, a payload), 3 the step failed or was stopped: on SIGTERM
(Tekton's cancel and timeout) it ends within 5s and writes what was
measured until then, marked "stopped".`

func main() {
	cli.Main("http", func(ctx context.Context) error {
		return runHTTP(ctx, os.Args[1:], os.Stderr, os.LookupEnv)
	})
}

// runHTTP runs the step; lookupEnv tells an unset variable from an empty one
// (AUTOX_FILE_ROOTS set but empty allows no file).
func runHTTP(ctx context.Context, args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	env := map[string]string{"dir": "AUTOX_DIR", "progress": "AUTOX_PROGRESS_INTERVAL"}
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	exp := cli.AddExperimentFlags(fs, env)
	dir := fs.String("dir", ".", "folder to write http.metrics.json into")
	every := cli.Duration(fs, "progress", 5*time.Second, cli.ProgressRange(), "interval of progress lines")
	workers := cli.AddWorkerFlags(fs, env)
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	worker, startAt, err := workers.Parse(time.Now())
	if err != nil {
		return err
	}
	files, err := experiment.FilesFromEnv(lookupEnv)
	if err != nil {
		return err
	}
	e, err := exp.Load()
	if err != nil {
		return err
	}
	log := logging.New(stderr, slog.LevelInfo)
	if cli.Skip(e, experiment.TaskHTTP, log) {
		return nil
	}
	step := httpload.Step{Log: log, Client: &http.Client{}, Files: files, ProgressEvery: *every, Worker: worker, StartAt: startAt}
	return step.Run(ctx, e, *dir)
}
