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
	"time"

	"github.com/autox-tekton/autox/internal/assess"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/generate"
	"github.com/autox-tekton/autox/internal/history"
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
	// HistoryNamespace is where --compare reads the group's history
	// (internal/history): the install namespace, autox-system.
	HistoryNamespace string
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
  autox report -g autox-httpbin-iter8 --compare 2 [-o text|html|json] [--history-namespace autox-system]

The report is read from the result ConfigMap the run's assess step stored
in the cluster, so it works after the run's pod is gone. --compare N puts
the group's last N versions side by side (the latest run of each version
that has a stored result), also versions whose runs were pruned: their
results are read from the group's history in --history-namespace (where
autox is installed); without access to it, only versions whose runs
remain are compared, and a note says so. Exit status: 0 reported
(whatever the verdict), 2 bad input (also a run without a stored
result), 3 the cluster could not be read.`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{"g": "AUTOX_EXPERIMENT_GROUP", "o": "AUTOX_OUTPUT", "version": "AUTOX_VERSION", "compare": "AUTOX_COMPARE",
		"history-namespace": "AUTOX_HISTORY_NAMESPACE", "n": "AUTOX_NAMESPACE", "kubeconfig": "AUTOX_KUBECONFIG"}
	fs := flag.NewFlagSet("autox report", flag.ContinueOnError)
	var cfg reportConfig
	fs.StringVar(&cfg.Group, "g", "", "the experiment group, autox-<group>-<spec>, e.g. autox-httpbin-iter8")
	fs.StringVar(&cfg.Output, "o", assess.Text, "the report printed to stdout: text, html or json")
	fs.StringVar(&cfg.Version, "version", "", "report the latest run of this version (the runs' label autox.dev/version) rather than the latest run")
	compare := cli.Int(fs, "compare", 0, cli.IntRange{Min: 2, Max: MaxCompare, Example: "2"}, "compare the group's last N versions side by side (N >= 2)")
	fs.StringVar(&cfg.HistoryNamespace, "history-namespace", generate.SystemNamespace, "with --compare: the namespace of the groups' histories, where autox is installed (ConfigMaps autox-history-<group>.<spec>)")
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
	if cfg.Compare > 0 && badinput.Is(err) {
		// Every run may be pruned while the history keeps the versions.
		g = pipelineruns.Group{Name: cfg.Group}
		h, herr := readHistory(ctx, cfg, f, g)
		switch {
		case herr == nil:
			return compareRun(ctx, cfg, f, g, h, stdout, log)
		case badinput.Is(herr):
			return herr
		}
		return err
	}
	if err != nil {
		return err
	}
	if cfg.Compare > 0 {
		h, err := readHistory(ctx, cfg, f, g)
		where := cfg.HistoryNamespace + "/" + history.Name(g.Runs[0].Group, g.Runs[0].Spec)
		switch {
		case errors.Is(err, history.ErrNone):
			log.Info("the group has no history; comparing the versions whose runs remain", "history", where)
		case err != nil:
			log.Warn("the group's history could not be read; comparing the versions whose runs remain", "history", where, "why", err)
		}
		return compareRun(ctx, cfg, f, g, h, stdout, log)
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

// readHistory reads the history of g from cfg.HistoryNamespace, by name
// (Get, no list permission needed): its runs name its group and spec;
// without runs, each way to cut autox-<group>-<spec> into a group and a
// spec is tried, and exactly one must have a history. history.ErrNone
// when there is none.
func readHistory(ctx context.Context, cfg reportConfig, f pipelineruns.Finder, g pipelineruns.Group) (*history.History, error) {
	s := history.Store{ConfigMaps: f.ConfigMaps, Namespace: cfg.HistoryNamespace}
	if len(g.Runs) > 0 {
		return s.Load(ctx, g.Runs[0].Group, g.Runs[0].Spec)
	}
	var found []*history.History
	rest := strings.TrimPrefix(g.Name, "autox-")
	for i := range len(rest) {
		if rest[i] != '-' || i == 0 || i == len(rest)-1 {
			continue
		}
		h, err := s.Load(ctx, rest[:i], rest[i+1:])
		switch {
		case errors.Is(err, history.ErrNone):
			continue
		case err != nil:
			return nil, err
		}
		found = append(found, h)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w of %s in %s", history.ErrNone, g.Name, cfg.HistoryNamespace)
	case 1:
		return found[0], nil
	}
	var pairs []string
	for _, h := range found {
		pairs = append(pairs, fmt.Sprintf("group %q spec %q", h.Group, h.Spec))
	}
	return nil, badinput.Field("-g", fmt.Sprintf("%s names the histories of %s and no run; rename one group or spec (kubectl get configmaps -n %s -l %s=true -L %s,%s lists each)",
		g.Name, strings.Join(pairs, " and "), cfg.HistoryNamespace, history.Label, contract.GroupLabel, contract.SpecLabel))
}

// candidate is one run of a version that may have a result: a run that
// remains (its result ConfigMap, else the history's copy of it), or one
// only the history still has.
type candidate struct {
	run   *pipelineruns.Run
	entry *history.Entry
	// kept is the history's result of entry, decoded.
	kept *result.Result
	// at orders the runs: a run's decision time, else its result's start
	// (the history keeps no decision time); seq breaks ties as the runs'
	// order does, a run only in the history before the runs that remain.
	at  time.Time
	seq int
}

func (c candidate) newer(o candidate) bool {
	if !c.at.Equal(o.at) {
		return c.at.After(o.at)
	}
	return c.seq > o.seq
}

func (c candidate) version() string {
	if c.run != nil {
		return c.run.Version
	}
	return c.entry.Version
}

func (c candidate) name() string {
	if c.run != nil {
		return c.run.Name
	}
	return c.entry.Run
}

// versionRuns is one version's candidates, newest first.
type versionRuns struct {
	version string
	runs    []candidate
}

// byVersion merges the runs of g and the entries of h (nil: none) into
// versions, newest first, each with its runs newest first.
func byVersion(g pipelineruns.Group, h *history.History, log *slog.Logger) []versionRuns {
	var entries []history.Entry
	if h != nil {
		entries = h.Entries
	}
	var all []candidate
	byUID := map[string]int{} // a run's UID -> its entry's index
	for i, e := range entries {
		byUID[e.RunUID] = i
	}
	used := map[int]bool{}
	for i, r := range g.Runs {
		c := candidate{run: &g.Runs[i], at: r.DecidedAt, seq: len(entries) + i}
		if j, ok := byUID[r.UID]; ok && r.UID != "" {
			c.entry, used[j] = &entries[j], true
		}
		all = append(all, c)
	}
	for j := range entries {
		if used[j] {
			continue
		}
		e := &entries[j]
		res, err := h.Result(*e)
		if err != nil {
			log.Warn("a result in the group's history cannot be read; its version is left out", "run", e.Run, "version", e.Version, "why", err)
			continue
		}
		at := res.StartTime
		if at.IsZero() {
			at = e.EndTime
		}
		all = append(all, candidate{entry: e, kept: res, at: at, seq: j})
	}
	var out []versionRuns
	index := map[string]int{}
	for _, c := range all {
		v := c.version()
		i, ok := index[v]
		if !ok {
			i = len(out)
			index[v] = i
			out = append(out, versionRuns{version: v})
		}
		out[i].runs = append(out[i].runs, c)
	}
	for i := range out {
		slices.SortStableFunc(out[i].runs, func(a, b candidate) int {
			if a.newer(b) {
				return -1
			}
			if b.newer(a) {
				return 1
			}
			return 0
		})
	}
	slices.SortStableFunc(out, func(a, b versionRuns) int {
		if a.runs[0].newer(b.runs[0]) {
			return -1
		}
		if b.runs[0].newer(a.runs[0]) {
			return 1
		}
		return 0
	})
	return out
}

// compareRun compares the latest run with a stored result of each of the
// group's last cfg.Compare versions, oldest first: the result ConfigMap of
// a run that remains, else the copy in the group's history h (nil: none),
// which also has versions whose runs are gone.
func compareRun(ctx context.Context, cfg reportConfig, f pipelineruns.Finder, g pipelineruns.Group, h *history.History, stdout io.Writer, log *slog.Logger) error {
	var cols []report.Column
	var skipped, versions []string
	for _, v := range byVersion(g, h, log) {
		versions = append(versions, v.version)
		if len(cols) == cfg.Compare {
			continue
		}
		col, why, err := firstResult(ctx, f, h, v, log)
		if err != nil {
			return err
		}
		if col == nil {
			skipped = append(skipped, v.version)
			log.Info("a version without a stored result is left out", "run", v.runs[0].name(), "version", v.version, "why", why)
			continue
		}
		cols = append(cols, *col)
	}
	if len(cols) < 2 {
		have := "none has"
		if len(cols) == 1 {
			have = "only " + cols[0].Version + " has"
		}
		with := "with a run"
		if h != nil {
			with = "with a run or in its history"
		}
		msg := fmt.Sprintf("%s has %d versions %s (%s); %s a stored result", g.Name, len(versions), with, strings.Join(versions, ", "), have)
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

// firstResult is the newest run of v with a result: its result ConfigMap,
// else the copy in the history h. Only the newest run's errors count (an
// older run of the version may be cancelled, its ConfigMap gone); nil and
// why when no run has one.
func firstResult(ctx context.Context, f pipelineruns.Finder, h *history.History, v versionRuns, log *slog.Logger) (*report.Column, string, error) {
	why := ""
	for i, c := range v.runs {
		if c.run != nil {
			stored, err := f.Result(ctx, *c.run)
			if err == nil {
				warnDropped(log, *c.run, stored)
				return &report.Column{Version: v.version, Run: c.run.Name, Result: stored.Result}, "", nil
			}
			var missing *pipelineruns.MissingError
			switch {
			case i == 0 && errors.As(err, &missing):
				why = missing.Why
			case i == 0:
				return nil, "", err
			}
		}
		if c.entry == nil {
			continue
		}
		res := c.kept
		if res == nil {
			// The history's copy of a run that remains is read only when
			// its ConfigMap is gone.
			var err error
			if res, err = h.Result(*c.entry); err != nil {
				log.Warn("a result in the group's history cannot be read", "run", c.entry.Run, "version", c.entry.Version, "why", err)
				continue
			}
		}
		if len(c.entry.Dropped) > 0 {
			log.Warn("the result kept in the history was cut to fit; the report lacks what was cut", "run", c.entry.Run, "version", c.entry.Version, "dropped", strings.Join(c.entry.Dropped, ","))
		}
		return &report.Column{Version: v.version, Run: c.entry.Run, Result: res}, "", nil
	}
	return nil, why, nil
}
