// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command assess is the assess step: it reads the experiment's metrics
// files, checks the SLOs, writes result.json, report.txt and report.html,
// prints the report, writes the Tekton results slos-satisfied and summary,
// and keeps result.json in a ConfigMap owned by the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/load"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/outcome"
	"github.com/autox-tekton/autox/internal/parts"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

const usage = `assess: check an experiment's SLOs and write its reports

With -pipelinerun (or, for a bare TaskRun, -taskrun) it also keeps
result.json in a ConfigMap named after that run and owned by it, so that
the result is deleted with the run; the step's ServiceAccount needs get,
create and update on configmaps. -slos-satisfied-file and -summary-file
receive the Tekton results (Tekton passes $(step.results.<name>.path)).

With assess.regression in the experiment it judges latency metrics
against the baseline: the last version of the group and spec that passed,
from the history autox keeps in -history-namespace (or a -baseline
result.json). No baseline (a first version) judges nothing and says so.

A run with workers (http.workers or grpc.workers above 1, the Pipeline
autox-workers) is several pods, which pass their metrics files in
ConfigMaps <pipelinerun>-<part> owned by the PipelineRun: -gather reads
parts into -dir first (ready, workers = every load pod's, or w<i>), and
-keep-part keeps -dir's own files as a part. With -parts-only it does
that (and writes -workers-file and -start-at-file, the load pods' matrix
and shared start) and no assessment.

Exit status: 0 every SLO holds (or -fail-on-violation=false), 1 an SLO does
not hold or a metric regressed, 2 bad input, 3 a task did not complete, the result could not be
stored, or assess was stopped: on SIGTERM (Tekton's cancel and timeout) it
ends at once; result.json, report.txt and report.html are each whole or
absent.`

func main() {
	kube.Main("assess", func(ctx context.Context, _ *slog.Logger) error {
		return runAssess(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, connect)
	})
}

// connect finds the cluster as the ready step does: in a pod, the pod's
// ServiceAccount.
func connect(k kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
	c, err := kube.Connect(k)
	if err != nil {
		return nil, err
	}
	return c.Kube.CoreV1(), nil
}

// findBaseline reads the baseline from a file, or from the history in
// historyNS.
func findBaseline(ctx context.Context, file, historyNS, group, spec, run string, cms corev1client.ConfigMapsGetter,
	kc kube.Kubeconfig, connect func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error)) (assess.Baseline, error) {
	switch {
	case file != "":
		return assess.FromFile(file, "")
	case historyNS == "":
		return assess.Baseline{Note: "no baseline: no history to read (-history-namespace) nor -baseline file"}, nil
	}
	if cms == nil {
		var err error
		if cms, err = connect(kc); err != nil {
			return assess.Baseline{}, err
		}
	}
	return assess.FromHistory(ctx, history.Store{ConfigMaps: cms, Namespace: historyNS}, group, spec, run)
}

func runAssess(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, connect func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error)) error {
	env := map[string]string{
		"dir": "AUTOX_DIR", "o": "AUTOX_OUTPUT", "fail-on-violation": "AUTOX_FAIL_ON_VIOLATION",
		"slos-satisfied-file": "AUTOX_SLOS_SATISFIED_FILE", "summary-file": "AUTOX_SUMMARY_FILE",
		"namespace": "AUTOX_NAMESPACE", "pipelinerun": "AUTOX_PIPELINERUN", "pipelinerun-uid": "AUTOX_PIPELINERUN_UID",
		"taskrun": "AUTOX_TASKRUN", "taskrun-uid": "AUTOX_TASKRUN_UID",
		"group": "AUTOX_GROUP", "spec": "AUTOX_SPEC", "version": "AUTOX_VERSION", "name": "AUTOX_NAME", "kubeconfig": "AUTOX_KUBECONFIG",
		"history-namespace": "AUTOX_HISTORY_NAMESPACE", "baseline": "AUTOX_BASELINE",
		"gather": "AUTOX_GATHER", "keep-part": "AUTOX_KEEP_PART", "parts-only": "AUTOX_PARTS_ONLY",
		"workers-file": "AUTOX_WORKERS_FILE", "start-at-file": "AUTOX_START_AT_FILE", "start-lead": "AUTOX_START_LEAD",
	}
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	exp := cli.AddExperimentFlags(fs, env)
	dir := fs.String("dir", ".", "folder with the metrics files; receives result.json, report.txt, report.html")
	out := fs.String("o", assess.Text, "report printed to stdout: text, json or html")
	fail := fs.Bool("fail-on-violation", true, "exit 1 when an SLO does not hold; false reports it as a warning and exits 0")
	files := assess.ResultFiles{}
	fs.StringVar(&files.SLOsSatisfied, "slos-satisfied-file", "", "file that receives true or false (Tekton result slos-satisfied); \"\" writes none")
	fs.StringVar(&files.Summary, "summary-file", "", "file that receives one line per SLO (Tekton result summary); \"\" writes none")
	ns := fs.String("namespace", "", "namespace of the run, where the result ConfigMap goes")
	pr := fs.String("pipelinerun", "", "PipelineRun that names and owns the result ConfigMap")
	prUID := fs.String("pipelinerun-uid", "", "its uid")
	tr := fs.String("taskrun", "", "TaskRun that names and owns the result ConfigMap when there is no -pipelinerun")
	trUID := fs.String("taskrun-uid", "", "its uid")
	group := fs.String("group", "", "label autox.dev/group of the result ConfigMap")
	spec := fs.String("spec", "", "label autox.dev/spec of the result ConfigMap")
	version := fs.String("version", "", "label autox.dev/version of the result ConfigMap (the version under test)")
	name := fs.String("name", "", "label autox.dev/name of the result ConfigMap (the tested object's name)")
	historyNS := fs.String("history-namespace", "", "namespace of the history autox keeps per group and spec (autox-system); assess.regression judges against its last version that passed")
	baselineFile := fs.String("baseline", "", "a result.json to judge assess.regression against, instead of the history")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	gather := fs.String("gather", "", "parts of the run to read into -dir first, comma-separated: ready, workers (every load pod's), w<i>")
	keepPart := fs.String("keep-part", "", "keep -dir's own metrics files as this part of the run (ready, w<i>) for the pods after it")
	partsOnly := fs.Bool("parts-only", false, "gather, keep and plan the parts, then exit: no assessment")
	workersFile := fs.String("workers-file", "", "file that receives the load pods' indexes as a JSON array (Tekton result workers)")
	startAtFile := fs.String("start-at-file", "", "file that receives now + -start-lead, when the load pods begin (Tekton result start-at)")
	startLead := fs.Duration("start-lead", 15*time.Second, "how long after -start-at-file is written the load pods begin: time for every pod to start")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	e, err := exp.Load()
	if err != nil {
		return err
	}
	var target *store.Target
	switch {
	case *pr != "":
		target = &store.Target{Owner: store.Owner{Kind: store.KindPipelineRun, Name: *pr, UID: *prUID}}
	case *tr != "":
		target = &store.Target{Owner: store.Owner{Kind: store.KindTaskRun, Name: *tr, UID: *trUID}}
	}
	var results store.Store
	var cms corev1client.ConfigMapsGetter
	kc := kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")}
	if target != nil {
		target.Namespace, target.Group, target.Spec, target.Version, target.Name = *ns, *group, *spec, *version, *name
		// Checked before the assessment, so that bad input stores nothing.
		if err := target.Validate(); err != nil {
			return err
		}
		if cms, err = connect(kc); err != nil {
			return err
		}
		results.ConfigMaps = cms
	}
	if *gather != "" || *keepPart != "" || *partsOnly {
		switch {
		case target == nil:
			return badinput.Field("-pipelinerun", "missing; the parts of a run are named after and owned by its PipelineRun (or a TaskRun run alone): pass -pipelinerun, -pipelinerun-uid and -namespace")
		case *startLead < 0 || *startLead > load.MaxStartAhead:
			return badinput.Field("-start-lead", fmt.Sprintf("%s is not between 0 and %s", *startLead, load.MaxStartAhead))
		}
		list, err := parts.Expand(*gather, e)
		if err != nil {
			return err
		}
		pod := parts.Pod{
			Store: parts.Store{ConfigMaps: cms, Namespace: *ns, Run: target.Owner}, Dir: *dir, Gather: list, Keep: *keepPart,
			WorkersFile: *workersFile, StartAtFile: *startAtFile, StartLead: *startLead, Log: logging.New(stderr, slog.LevelInfo),
		}
		if err := pod.Run(ctx, e); err != nil || *partsOnly {
			return err
		}
	}
	cfg := assess.Config{Experiment: e, Dir: *dir, Output: *out, FailOnViolation: *fail}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if e.Assess != nil && e.Assess.Regression != nil {
		b, err := findBaseline(ctx, *baselineFile, *historyNS, *group, *spec, *pr, cms, kc, connect)
		if err != nil {
			// No verdict rather than no run: the report says why.
			fmt.Fprintf(stderr, "::warning::the regression verdict has no baseline: %v\n", err)
			b = assess.Baseline{Note: "no baseline: " + err.Error()}
		}
		cfg.Baseline = &b
	}
	// assess.Run takes no context: it reads files and writes three. A stop
	// ends the program at once, which is safe because each file is
	// written to a temporary file and renamed into place.
	type assessed struct {
		r   *result.Result
		err error
	}
	done := make(chan assessed, 1)
	go func() {
		r, err := assess.Run(cfg, stdout, stderr)
		done <- assessed{r, err}
	}()
	var a assessed
	select {
	case a = <-done:
	case <-ctx.Done():
		return fmt.Errorf("stopped (%w) before the assessment ended; result.json, report.txt and report.html are each whole or absent", context.Cause(ctx))
	}
	if a.r == nil || (a.err != nil && !errors.Is(a.err, outcome.ErrSLOsViolated) && !errors.Is(a.err, outcome.ErrExperimentFailed)) {
		return a.err
	}
	// The verdict is known: from here on a failure to record it is
	// reported, but the verdict decides the exit status.
	log := logging.New(stderr, slog.LevelInfo)
	keep := func(err error) error {
		if a.err == nil {
			return err
		}
		log.Error(err.Error())
		return a.err
	}
	if err := files.Write(a.r); err != nil {
		return keep(err)
	}
	if target == nil {
		return a.err
	}
	saved, err := results.Save(ctx, *target, a.r)
	if err != nil {
		return keep(err)
	}
	if len(saved.Dropped) > 0 {
		log.Warn(fmt.Sprintf("the result is too big for a ConfigMap; stored without %v", saved.Dropped))
	}
	log.Info(fmt.Sprintf("result stored in ConfigMap %s/%s (%d bytes)", target.Namespace, saved.Name, saved.Bytes))
	return a.err
}
