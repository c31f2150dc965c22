// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command ready is the ready step: it waits until the experiment's ready
// objects (a Deployment Available, a Service with ready endpoints, ...)
// are ready and writes <dir>/ready.metrics.json, or says what was not
// ready and why, and records that in ready.metrics.json, marked failed.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/ready"
)

const usage = `ready: wait until the experiment's objects are ready, then write ready.metrics.json

Outside a pod the cluster is found as kubectl finds it: -kubeconfig (one
file), else $KUBECONFIG (a list of files, merged), else ~/.kube/config.

It validates the whole experiment (every section, listed in tasks or not),
so that as the Task's first step it stops a typo before any load. When
the tasks list does not name ready, it says so and exits 0.

When ready fails once the experiment is read (objects not ready in time,
an object it may not read or that the API server does not serve, a
kubeconfig that does not work), it writes ready.metrics.json marked
failed, with the reason: the load steps after it then send nothing, and
assess reports the failure and exits 3 (the Task runs this step with
onError: continue).

Exit status: 0 ready (or nothing to wait for), 2 bad input (a flag, the experiment, the kubeconfig,
an unknown resource), 3 not ready in time, not allowed to read an object,
or stopped: on SIGTERM (Tekton's cancel and timeout) it ends within 5s,
says what each object was last seen as and writes no metrics file.`

func main() {
	kube.Main("ready", func(ctx context.Context, log *slog.Logger) error {
		return runReady(ctx, os.Args[1:], os.Stderr, log, os.Getenv)
	})
}

func runReady(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{"dir": "AUTOX_DIR", "kubeconfig": "AUTOX_KUBECONFIG", "namespace": "AUTOX_NAMESPACE"}
	fs := flag.NewFlagSet("ready", flag.ContinueOnError)
	exp := cli.AddExperimentFlags(fs, env)
	dir := fs.String("dir", ".", "folder to write ready.metrics.json into")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	namespace := fs.String("namespace", "", "namespace of the objects when the experiment's ready.namespace is empty (default: the kubeconfig's; in a pod, the pod's)")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	// The whole experiment is validated here, ready or not: in the Tekton
	// Task this is the first step, so a typo fails before any load.
	e, err := exp.Load()
	if err != nil {
		return err
	}
	if cli.Skip(e, experiment.TaskReady, log) {
		return nil
	}
	step := ready.Step{Log: log, Namespace: *namespace, Kubeconfig: kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")}}
	return step.Run(ctx, e, *dir)
}
