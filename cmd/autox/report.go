// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
)

// reportConfig is what autox report was asked.
type reportConfig struct {
	// Group is -g, autox-<group>-<spec>.
	Group string
	// Output is text, html or json.
	Output string
	// Version picks the latest run of this version; "": the latest run.
	Version string
	// Compare is how many versions to compare; 0: report one run.
	Compare int
	// compareSet says --compare was given (so 0 and 1 are refused).
	compareSet bool
}

func (c reportConfig) validate() error {
	var problems []badinput.FieldError
	add := func(path, msg string) { problems = append(problems, badinput.FieldError{Path: path, Message: msg}) }
	if c.Group == "" {
		add("-g", missingGroup)
	}
	if !slices.Contains([]string{assess.Text, assess.HTML, assess.JSON}, c.Output) {
		add("-o", fmt.Sprintf("%q is not an output format; write text, html or json", c.Output))
	}
	if c.compareSet && c.Compare < 2 {
		add("--compare", fmt.Sprintf("%d versions cannot be compared; give 2 or more, e.g. --compare 2 for the last two versions", c.Compare))
	}
	if c.compareSet && c.Version != "" {
		add("--version", "cannot be given with --compare, which takes the latest versions; give one of them")
	}
	if len(problems) > 0 {
		return &badinput.Error{Problems: problems}
	}
	return nil
}

// MaxCompare is the most versions --compare puts side by side.
const MaxCompare = 100

const reportSummary = `autox report: print the stored report of an experiment group's run

  autox report -g autox-httpbin-iter8 [-o text|html|json] [--version V]
  autox report -g autox-httpbin-iter8 --compare 2 [-o text|html|json]

The report is read from the result ConfigMap the run's assess step stored
in the cluster, so it works after the run's pod is gone. --compare N puts
the group's last N versions side by side (the latest run of each version
that has a stored result). Exit status: 0 reported (whatever the verdict),
2 bad input (also a run without a stored result), 3 the cluster could not
be read.`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{"g": "AUTOX_EXPERIMENT_GROUP", "o": "AUTOX_OUTPUT", "version": "AUTOX_VERSION", "compare": "AUTOX_COMPARE",
		"n": "AUTOX_NAMESPACE", "kubeconfig": "AUTOX_KUBECONFIG"}
	fs := flag.NewFlagSet("autox report", flag.ContinueOnError)
	var cfg reportConfig
	fs.StringVar(&cfg.Group, "g", "", "the experiment group, autox-<group>-<spec>, e.g. autox-httpbin-iter8")
	fs.StringVar(&cfg.Output, "o", assess.Text, "the report printed to stdout: text, html or json")
	fs.StringVar(&cfg.Version, "version", "", "report the latest run of this version (the runs' label autox.dev/version) rather than the latest run")
	compare := cli.Int(fs, "compare", 0, cli.IntRange{Min: 2, Max: MaxCompare, Example: "2"}, "compare the group's last N versions side by side (N >= 2)")
	ns := fs.String("n", "autox", "the namespace of the runs")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config)")
	fs.Usage = func() { cli.Usage(stderr, fs, reportSummary, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	cfg.Compare = *compare
	fs.Visit(func(f *flag.Flag) { cfg.compareSet = cfg.compareSet || f.Name == "compare" })
	cfg.compareSet = cfg.compareSet || getenv("AUTOX_COMPARE") != ""
	if err := cfg.validate(); err != nil {
		return err
	}
	f, err := connectFinder(*ns, kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")})
	if err != nil {
		return err
	}
	return reportRun(ctx, cfg, f, stdout, log)
}

// reportRun prints the report of cfg's run, or the comparison.
func reportRun(ctx context.Context, cfg reportConfig, f pipelineruns.Finder, stdout io.Writer, log *slog.Logger) error {
	g, err := f.Group(ctx, cfg.Group)
	if err != nil {
		return err
	}
	if cfg.Compare > 0 {
		return compareRun(ctx, cfg, f, g, stdout, log)
	}
	r, err := g.Latest(cfg.Version)
	if err != nil {
		return err
	}
	stored, err := f.Result(ctx, r)
	var missing *pipelineruns.MissingError
	if errors.As(err, &missing) {
		path, fix := "-g", ""
		if cfg.Version != "" {
			path = "--version"
		}
		if r.State == pipelineruns.Running {
			fix = fmt.Sprintf("; autox assert -c completed -t 5m -g %s waits for it", g.Name)
		}
		if others := slices.DeleteFunc(g.Versions(), func(v string) bool { return v == r.Version }); len(others) > 0 {
			fix += "; --version reports another version: " + strings.Join(others, ", ")
		}
		return badinput.Field(path, missing.Error()+fix)
	}
	if err != nil {
		return err
	}
	log.Info("the stored result", "run", r.Name, "version", r.Version, "state", r.State)
	warnDropped(log, r, stored)
	switch cfg.Output {
	case assess.HTML:
		return report.HTML(stdout, stored.Result)
	case assess.JSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(stored.Result)
	}
	return report.Text(stdout, stored.Result)
}

func warnDropped(log *slog.Logger, r pipelineruns.Run, s *pipelineruns.Stored) {
	if len(s.Dropped) > 0 {
		log.Warn("the stored result was cut to fit its ConfigMap; the report lacks what was cut", "run", r.Name, "version", r.Version, "dropped", strings.Join(s.Dropped, ","))
	}
}

// compared is one version of --compare -o json.
type compared struct {
	Version string         `json:"version"`
	Run     string         `json:"run"`
	Result  *result.Result `json:"result"`
}

// compareRun compares the latest run with a stored result of each of the
// group's last cfg.Compare versions, oldest first.
func compareRun(ctx context.Context, cfg reportConfig, f pipelineruns.Finder, g pipelineruns.Group, stdout io.Writer, log *slog.Logger) error {
	var cols []report.Column
	var skipped []string
	for _, r := range g.LatestPerVersion() {
		if len(cols) == cfg.Compare {
			break
		}
		stored, err := f.Result(ctx, r)
		var missing *pipelineruns.MissingError
		if errors.As(err, &missing) {
			// An older run of this version may have one.
			if older := olderWithResult(ctx, f, g, r); older != nil {
				cols = append(cols, *older)
				continue
			}
			skipped = append(skipped, r.Version)
			log.Info("a version without a stored result is left out", "run", r.Name, "version", r.Version, "why", missing.Why)
			continue
		}
		if err != nil {
			return err
		}
		warnDropped(log, r, stored)
		cols = append(cols, report.Column{Version: r.Version, Run: r.Name, Result: stored.Result})
	}
	if len(cols) < 2 {
		have := "none has"
		if len(cols) == 1 {
			have = "only " + cols[0].Version + " has"
		}
		msg := fmt.Sprintf("%s has %d versions with a run (%s); %s a stored result", g.Name, len(g.Versions()), strings.Join(g.Versions(), ", "), have)
		if len(skipped) > 0 {
			msg += " (autox report --version V says why one has none)"
		}
		return badinput.Field("--compare", msg+"; compare once two versions have finished")
	}
	if len(cols) < cfg.Compare {
		log.Info("fewer versions with a stored result than asked; comparing those", "asked", cfg.Compare, "versions", len(cols))
	}
	slices.Reverse(cols) // oldest first
	switch cfg.Output {
	case assess.HTML:
		return report.CompareHTML(stdout, g.Name, cols)
	case assess.JSON:
		out := make([]compared, len(cols))
		for i, c := range cols {
			out[i] = compared{Version: c.Version, Run: c.Run, Result: c.Result}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return report.CompareText(stdout, g.Name, cols)
}

// olderWithResult is the latest run of r's version before r that has a
// stored result (r was cancelled, or still runs), or nil.
func olderWithResult(ctx context.Context, f pipelineruns.Finder, g pipelineruns.Group, r pipelineruns.Run) *report.Column {
	i := slices.IndexFunc(g.Runs, func(o pipelineruns.Run) bool { return o.Name == r.Name })
	for j := i - 1; j >= 0; j-- {
		o := g.Runs[j]
		if o.Version != r.Version {
			continue
		}
		if s, err := f.Result(ctx, o); err == nil {
			return &report.Column{Version: o.Version, Run: o.Name, Result: s.Result}
		}
	}
	return nil
}
