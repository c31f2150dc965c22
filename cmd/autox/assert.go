// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/names"
	"github.com/autox-tekton/autox/internal/outcome"
	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
)

// Conditions of autox assert, as Iter8's `iter8 k assert -c` named them.
const (
	// condCompleted: the run finished and was neither cancelled nor ended
	// by Tekton's timeout.
	condCompleted = "completed"
	// condNoFailure: every task in the stored result completed.
	condNoFailure = "nofailure"
	// condSLOs: every SLO verdict in the stored result holds.
	condSLOs = "slos"
	// condNoRegression: no metric in the stored result is slower than
	// its baseline beyond its limit (assess.regression).
	condNoRegression = "noregression"
)

var conditionNames = []string{condCompleted, condNoFailure, condSLOs, condNoRegression}

// errConditions ends autox assert with status 1 (outcome.Violated): its
// lines on stdout already said which condition failed and why.
var errConditions = fmt.Errorf("conditions not satisfied: %w", outcome.ErrSLOsViolated)

// conditionsFlag is -c, repeatable; a value may also list several,
// comma-separated (as its environment twin does).
type conditionsFlag []string

func (c *conditionsFlag) String() string { return strings.Join(*c, ",") }

func (c *conditionsFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*c = append(*c, s)
		}
	}
	return nil
}

// missingGroup is what assert and report say when -g is not given.
const missingGroup = "missing; name the experiment group as autox-<group>-<spec>, e.g. -g autox-httpbin-iter8"

// assertConfig is what autox assert was asked.
type assertConfig struct {
	// Group is -g, autox-<group>-<spec>.
	Group      string
	Conditions []string
	// Timeout is how long to wait for a run still going; 0: not at all.
	Timeout time.Duration
	// Version picks the latest run of this version; "": the latest run.
	Version string
}

func (c assertConfig) validate() error {
	var problems []badinput.FieldError
	add := func(path, msg string) { problems = append(problems, badinput.FieldError{Path: path, Message: msg}) }
	if c.Group == "" {
		add("-g", missingGroup)
	}
	if len(c.Conditions) == 0 {
		add("-c", "missing; give the conditions to check: -c completed -c nofailure -c slos -c noregression")
	}
	for _, cond := range c.Conditions {
		if slices.Contains(conditionNames, cond) {
			continue
		}
		msg := fmt.Sprintf("%q is not a condition; the conditions are %s", cond, strings.Join(conditionNames, ", "))
		if best, ok := names.Closest(strings.ToLower(cond), conditionNames, 3); ok {
			msg += "; did you mean " + best + "?"
		}
		add("-c", msg)
	}
	if c.Timeout < 0 {
		add("-t", fmt.Sprintf("%s is negative; give how long to wait for the run, e.g. -t 5m", c.Timeout))
	}
	if len(problems) > 0 {
		return &badinput.Error{Problems: problems}
	}
	return nil
}

const assertSummary = `autox assert: check the latest run of an experiment group

  autox assert -c completed -c nofailure -c slos -c noregression -g autox-httpbin-iter8 [-t 5m] [--version V]

Conditions: completed (the run finished and was neither cancelled nor timed
out), nofailure (every task completed), slos (every SLO holds),
noregression (no latency metric is slower than the baseline's beyond its
assess.regression limit; holds when there is no baseline yet). One line
per condition on stdout. Exit status: 0 all hold, 1 one does not (its
line says why), 2 bad input (also a run still going without -t), 3 the
cluster could not be read.`

func assertCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{"g": "AUTOX_EXPERIMENT_GROUP", "c": "AUTOX_CONDITIONS", "t": "AUTOX_TIMEOUT", "version": "AUTOX_VERSION",
		"n": "AUTOX_NAMESPACE", "kubeconfig": "AUTOX_KUBECONFIG"}
	fs := flag.NewFlagSet("autox assert", flag.ContinueOnError)
	var cfg assertConfig
	var conds conditionsFlag
	fs.StringVar(&cfg.Group, "g", "", "the experiment group, autox-<group>-<spec>, e.g. autox-httpbin-iter8")
	fs.Var(&conds, "c", "a condition to check: completed, nofailure, slos or noregression; repeat -c for several")
	timeout := cli.Duration(fs, "t", 0, cli.DurationRange{Min: 0, Max: 24 * time.Hour, Example: "5m"}, "how long to wait for a run still going, e.g. 5m; 0 does not wait")
	fs.StringVar(&cfg.Version, "version", "", "check the latest run of this version (the runs' label autox.dev/version) rather than the latest run")
	ns := fs.String("n", "autox", "the namespace of the runs")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config)")
	fs.Usage = func() { cli.Usage(stderr, fs, assertSummary, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	cfg.Timeout = *timeout
	for _, c := range conds { // -c slos -c slos checks once
		if !slices.Contains(cfg.Conditions, c) {
			cfg.Conditions = append(cfg.Conditions, c)
		}
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	f, err := connectFinder(*ns, kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")})
	if err != nil {
		return err
	}
	return assertRun(ctx, cfg, f, stdout, log)
}

// connectFinder reads the cluster as kubectl finds it.
func connectFinder(namespace string, k kube.Kubeconfig) (pipelineruns.Finder, error) {
	c, err := kube.Connect(k)
	if err != nil {
		return pipelineruns.Finder{}, err
	}
	return pipelineruns.Finder{Dynamic: c.Dynamic, ConfigMaps: c.Kube.CoreV1(), Pods: c.Kube.CoreV1(), Namespace: namespace}, nil
}

// assertRun checks cfg's conditions on the latest run of its group and
// prints one line per condition.
func assertRun(ctx context.Context, cfg assertConfig, f pipelineruns.Finder, stdout io.Writer, log *slog.Logger) error {
	g, err := f.Group(ctx, cfg.Group)
	if err != nil {
		return err
	}
	r, err := g.Latest(cfg.Version)
	if err != nil {
		return err
	}
	log = log.With("run", r.Name, "version", r.Version)
	timedOut := false
	if !r.Done() {
		if cfg.Timeout == 0 {
			return badinput.Field("-t", fmt.Sprintf("not given, and run %s (version %s) of %s is still running; wait for it with -t 5m", r.Name, r.Version, g.Name))
		}
		log.Info("the run is still going; waiting", "timeout", cfg.Timeout)
		r, err = f.Wait(ctx, r, cfg.Timeout, func(r pipelineruns.Run, waited time.Duration) {
			log.Info("still running", "waited", waited.Round(time.Second))
		})
		switch {
		case errors.Is(err, pipelineruns.ErrTimeout):
			timedOut = true
		case err != nil:
			return fmt.Errorf("waiting for run %s of %s: %w", r.Name, g.Name, err)
		}
	}

	var stored *pipelineruns.Stored
	var missing *pipelineruns.MissingError
	if slices.Contains(cfg.Conditions, condNoFailure) || slices.Contains(cfg.Conditions, condSLOs) || slices.Contains(cfg.Conditions, condNoRegression) {
		stored, err = f.Result(ctx, r)
		if err != nil && !errors.As(err, &missing) {
			return err
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "run %s of %s, version %s\n", r.Name, g.Name, r.Version)
	var failed []string
	for _, cond := range cfg.Conditions {
		lines, ok := check(ctx, f, cond, r, timedOut, cfg.Timeout, stored, missing)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		if !ok {
			failed = append(failed, cond)
		}
	}
	if len(failed) == 0 {
		b.WriteString("all conditions were satisfied\n")
	} else {
		b.WriteString("conditions not satisfied: " + strings.Join(failed, ", ") + "\n")
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if len(failed) > 0 {
		return errConditions
	}
	return nil
}

// check is one condition: its lines, and whether it holds.
func check(ctx context.Context, f pipelineruns.Finder, cond string, r pipelineruns.Run, timedOut bool, timeout time.Duration, stored *pipelineruns.Stored, missing *pipelineruns.MissingError) ([]string, bool) {
	switch cond {
	case condCompleted:
		switch {
		case timedOut:
			return []string{fmt.Sprintf("experiment not completed: still running after %s (-t)", timeout)}, false
		case r.State == pipelineruns.Cancelled:
			return []string{"experiment not completed: cancelled (a newer version superseded it, or the label was removed)"}, false
		case r.State == pipelineruns.TimedOut:
			return []string{"experiment not completed: Tekton's timeout ended it: " + r.Message}, false
		}
		return []string{"experiment completed"}, true
	case condNoFailure:
		if stored == nil {
			if r.State == pipelineruns.Failed {
				if fail, err := f.Failure(ctx, r); err == nil && fail != nil {
					return []string{"experiment has failures:", "  " + fail.String()}, false
				}
			}
			return []string{"cannot tell whether the experiment has failures: " + missing.Why}, false
		}
		var lines []string
		for _, t := range stored.Result.Tasks {
			if !t.Completed {
				lines = append(lines, "  "+t.Name+": "+t.Reason)
			}
		}
		if len(lines) > 0 {
			return append([]string{"experiment has failures:"}, lines...), false
		}
		return []string{"experiment has no failure"}, true
	case condSLOs:
		if stored == nil {
			return []string{"cannot tell whether SLOs are satisfied: " + missing.Why}, false
		}
		breaches := report.SLOBreaches(stored.Result)
		// A run whose assess step failed it for a regression alone
		// vouches for its SLOs: the failure is that verdict.
		if len(breaches) == 0 && r.State != pipelineruns.Succeeded && !(r.State == pipelineruns.Failed && stored.Result.Regressed) {
			return []string{"cannot tell whether SLOs are satisfied: " + notSucceeded(f, r)}, false
		}
		if len(breaches) == 0 {
			if len(stored.Result.SLOs) == 0 {
				return []string{"SLOs are satisfied (the experiment gives none)"}, true
			}
			return []string{"SLOs are satisfied"}, true
		}
		lines := []string{"SLOs are not satisfied:"}
		for _, l := range breaches {
			lines = append(lines, "  "+strings.TrimPrefix(l, "SLO not satisfied: "))
		}
		return lines, false
	case condNoRegression:
		if stored == nil {
			return []string{"cannot tell whether the experiment regressed: " + missing.Why}, false
		}
		return noRegression(f, r, stored.Result)
	}
	return nil, false
}

// notSucceeded says why a run that has not succeeded does not vouch for
// its result.
func notSucceeded(f pipelineruns.Finder, r pipelineruns.Run) string {
	why := string(r.State)
	if r.Reason != "" {
		why += ", " + r.Reason + ": " + r.Message
	}
	return fmt.Sprintf("PipelineRun %s/%s has not succeeded (%s); its result counts only once the run succeeds", f.Namespace, r.Name, why)
}

// noRegression is the noregression condition on a stored result: it holds
// without a regression section or a baseline (nothing to be slower than),
// and when no metric regressed; a regressed metric is named with both
// values, the ratio against its limit and p.
func noRegression(f pipelineruns.Finder, r pipelineruns.Run, res *result.Result) ([]string, bool) {
	g := res.Regression
	switch {
	case g == nil:
		return []string{"no regression: the experiment sets no assess.regression"}, true
	case g.Baseline == nil:
		return []string{"no regression: " + report.NoBaseline(g)}, true
	}
	var slower, notJudged []string
	for _, v := range g.Verdicts {
		switch {
		case v.Regressed:
			slower = append(slower, "  "+report.RegressionText(v, g.Baseline.Version))
		case v.Unavailable != "":
			notJudged = append(notJudged, "  "+report.RegressionText(v, g.Baseline.Version))
		}
	}
	if len(slower) > 0 {
		return append([]string{"the experiment regressed against baseline " + report.BaselineName(g.Baseline) + ":"}, slower...), false
	}
	if r.State != pipelineruns.Succeeded {
		// Only a run that succeeded vouches for its result.
		return []string{"cannot tell whether the experiment regressed: " + notSucceeded(f, r)}, false
	}
	line := fmt.Sprintf("no regression against baseline %s", report.BaselineName(g.Baseline))
	if len(notJudged) > 0 {
		return append([]string{line + "; not judged:"}, notJudged...), true
	}
	return []string{line}, true
}
