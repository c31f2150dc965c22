// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command autox is the user's command line: `autox run` runs an
// experiment's tasks in this process and prints the report.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/localrun"
)

const usage = `autox: automatic performance tests with SLO checks

Commands:
  run   run an experiment's tasks here and print the report
        autox run -f experiment.yaml [-o text|json|html] [--out DIR] [--baseline result.json]
  assert  check the latest run of an experiment group in the cluster
        autox assert -c completed -c nofailure -c slos [-c noregression] -g autox-httpbin-iter8 [-t 5m]
  report  print the stored report of a group's run, or compare its versions
        (from the runs, and the history autox keeps in autox-system)
        autox report -g autox-httpbin-iter8 [-o text|html|json] [--version V] [--compare N]
  generate  print the Triggers for Iter8 AutoX's Helm values, to kubectl apply
        autox generate [--set K=V]... [-f values.yaml]... | kubectl apply -f -

Exit status: 0 SLOs hold, 1 an SLO does not hold or a latency regressed
against the baseline (assess.regression), 2 bad input,
3 the experiment failed (a task did not complete: after a failed ready no
load is sent, and the report says why), or autox was stopped: on SIGTERM
or Ctrl-C it ends within 5s, keeps the metrics measured so far in the work
folder (named in its last line) and prints no report. Run "autox run -h"
for its flags.
`

func main() {
	kube.Main("autox", func(ctx context.Context, log *slog.Logger) error {
		return dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr, log, os.Getenv)
	})
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return badinput.Field("", "no command given; use autox run -f experiment.yaml")
		}
		return nil
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr, log, getenv)
	case "assert":
		return assertCmd(ctx, args[1:], stdout, stderr, log, getenv)
	case "report":
		return reportCmd(ctx, args[1:], stdout, stderr, log, getenv)
	case "generate":
		return generateCmd(args[1:], stdout, stderr)
	}
	return badinput.Field("", fmt.Sprintf("unknown command %q; the commands are: run, assert, report, generate", args[0]))
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	runEnv := map[string]string{"f": "AUTOX_EXPERIMENT_FILE", "o": "AUTOX_OUTPUT", "out": "AUTOX_OUT_DIR", "fail-on-violation": "AUTOX_FAIL_ON_VIOLATION", "baseline": "AUTOX_BASELINE"}
	fs := flag.NewFlagSet("autox run", flag.ContinueOnError)
	file := fs.String("f", "experiment.yaml", "experiment file")
	out := fs.String("o", assess.Text, "report printed to stdout: text, json or html")
	dir := fs.String("out", "", "folder that keeps the metrics, result.json, report.txt and report.html (default: none kept)")
	fail := fs.Bool("fail-on-violation", true, "exit 1 when an SLO does not hold; false reports it as a warning and exits 0")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file for the ready task, read alone (default: $KUBECONFIG, then ~/.kube/config)")
	baseline := fs.String("baseline", "", "result.json of an earlier run (--out keeps it) that assess.regression judges this run against")
	fs.Usage = func() { cli.Usage(stderr, fs, "autox run: run an experiment here and print its report", runEnv) }
	if err := cli.Parse(fs, args, runEnv, getenv); err != nil {
		return err
	}
	steps := localrun.Steps{Log: log, Client: &http.Client{}}
	_, err := steps.Run(ctx, localrun.Config{
		ExperimentFile: *file, OutDir: *dir, Output: *out, FailOnViolation: *fail, Baseline: *baseline,
		Kubeconfig: kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")},
	}, stdout, stderr)
	return err
}
