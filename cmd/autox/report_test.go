// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
	"github.com/autox-tekton/autox/internal/report"
	"github.com/autox-tekton/autox/internal/result"
)

// TestReport: the report of a stored result is the report `autox run`
// prints of it (report.Text, report.HTML, the result as JSON); the
// comparison puts the latest run with a result of each version side by
// side, oldest first.
func TestReport(t *testing.T) {
	v1 := pr("1.0.0", "0a1b2c3d4e", 100*time.Millisecond, pipelinerunstest.Succeeded)
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Failed)
	v3Cancelled := pr("3.0.0", "3333333333", 500*time.Millisecond, pipelinerunstest.Cancelled)
	v3 := pr("3.0.0", "4444444444", 700*time.Millisecond, pipelinerunstest.Succeeded)
	v3Again := pr("3.0.0", "5555555555", 900*time.Millisecond, pipelinerunstest.Running)
	fast, slowRes, fast3 := passing(t), slow(t), passing(t)
	c := cluster{
		objs:    []runtime.Object{v1.PipelineRun(t), v2.PipelineRun(t), v3Cancelled.PipelineRun(t), v3.PipelineRun(t), v3Again.PipelineRun(t)},
		results: map[pipelinerunstest.PR]*result.Result{v1: fast, v2: slowRes, v3: fast3},
	}
	text := func(r *result.Result) string {
		var b bytes.Buffer
		if err := report.Text(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	html := func(r *result.Result) string {
		var b bytes.Buffer
		if err := report.HTML(&b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	asJSON := func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	compareText := func(cols ...report.Column) string {
		var b bytes.Buffer
		if err := report.CompareText(&b, "autox-httpbin-iter8", cols); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	compareHTML := func(cols ...report.Column) string {
		var b bytes.Buffer
		if err := report.CompareHTML(&b, "autox-httpbin-iter8", cols); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	col1 := report.Column{Version: "1.0.0", Run: v1.Name(), Result: fast}
	col2 := report.Column{Version: "2.0.0", Run: v2.Name(), Result: slowRes}
	col3 := report.Column{Version: "3.0.0", Run: v3.Name(), Result: fast3}
	for _, tc := range []struct {
		name       string
		cfg        reportConfig
		wantStdout string
		wantStderr string
	}{
		{"text of --version 2.0.0", reportConfig{Group: "autox-httpbin-iter8", Output: "text", Version: "2.0.0"}, text(slowRes),
			"the stored result run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 state=failed\n"},
		{"html of --version 1.0.0", reportConfig{Group: "autox-httpbin-iter8", Output: "html", Version: "1.0.0"}, html(fast),
			"the stored result run=autox-httpbin-iter8-0a1b2c3d4e version=1.0.0 state=succeeded\n"},
		{"json of --version 2.0.0", reportConfig{Group: "autox-httpbin-iter8", Output: "json", Version: "2.0.0"}, asJSON(slowRes),
			"the stored result run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 state=failed\n"},
		{"--compare 2: 3.0.0's latest run still goes, its earlier one has a result", reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			compareText(col2, col3), noHistory},
		{"--compare 3 -o html", reportConfig{Group: "autox-httpbin-iter8", Output: "html", Compare: 3, compareSet: true, HistoryNamespace: "autox-system"},
			compareHTML(col1, col2, col3), noHistory},
		{"--compare 5: the three there are", reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 5, compareSet: true, HistoryNamespace: "autox-system"},
			compareText(col1, col2, col3), noHistory + "fewer versions with a stored result than asked; comparing those asked=5 versions=3\n"},
		{"--compare 2 -o json", reportConfig{Group: "autox-httpbin-iter8", Output: "json", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			asJSON([]compared{{Version: "2.0.0", Run: v2.Name(), Result: slowRes}, {Version: "3.0.0", Run: v3.Name(), Result: fast3}}), noHistory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := reportRun(context.Background(), tc.cfg, c.finder(t), &stdout, logging.New(&stderr, slog.LevelInfo))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// noHistory is the note of --compare on a group without a history.
const noHistory = "the group has no history; comparing the versions whose runs remain history=autox-system/autox-history-httpbin.iter8\n"

// TestReportCompareColumns pins the head of a comparison: which runs were
// picked, oldest first (the tables' own layout is pinned in
// internal/report).
func TestReportCompareColumns(t *testing.T) {
	v1 := pr("1.0.0", "0a1b2c3d4e", 100*time.Millisecond, pipelinerunstest.Succeeded)
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Failed)
	v2Cancelled := pr("2.0.0", "6666666666", 400*time.Millisecond, pipelinerunstest.Cancelled)
	c := cluster{objs: []runtime.Object{v1.PipelineRun(t), v2.PipelineRun(t), v2Cancelled.PipelineRun(t)},
		results: map[pipelinerunstest.PR]*result.Result{v1: passing(t), v2: slow(t)}}
	var stdout, stderr bytes.Buffer
	err := reportRun(context.Background(), reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"}, c.finder(t), &stdout, logging.New(&stderr, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	want := `Comparison of autox-httpbin-iter8, versions 1.0.0, 2.0.0 (oldest first):
************************************************************************

  Version | Run                            | Ended                | Verdict
  ------- | ---                            | -----                | -------
  1.0.0   | autox-httpbin-iter8-0a1b2c3d4e | 2026-11-27T10:00:00Z | All SLOs satisfied
  2.0.0   | autox-httpbin-iter8-5f6a7b8c9d | 2026-11-27T10:00:00Z | SLOs not satisfied
`
	if got := stdout.String(); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("comparison head (-want +got):\n%s", cmp.Diff(want, got[:min(len(got), len(want))]))
	}
}

// TestReportErrors: exit 2 with the why and the fix, nothing on stdout.
func TestReportErrors(t *testing.T) {
	v1 := pr("1.0.0", "0a1b2c3d4e", 100*time.Millisecond, pipelinerunstest.Succeeded)
	v2Running := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Running)
	v2Cancelled := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Cancelled)
	for _, tc := range []struct {
		name    string
		cluster func(t *testing.T) cluster
		cfg     reportConfig
		want    string
	}{
		{"the latest run still goes", func(t *testing.T) cluster {
			return cluster{objs: []runtime.Object{v1.PipelineRun(t), v2Running.PipelineRun(t)}, results: map[pipelinerunstest.PR]*result.Result{v1: passing(t)}}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "text"},
			"autox: -g: no stored result of autox-httpbin-iter8-5f6a7b8c9d (version 2.0.0): it is still running; its assess step stores the result when the load is done; autox assert -c completed -t 5m -g autox-httpbin-iter8 waits for it; --version reports another version: 1.0.0\n"},
		{"the ConfigMap is gone", func(t *testing.T) cluster {
			return cluster{objs: []runtime.Object{v1.PipelineRun(t)}}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "html", Version: "1.0.0"},
			"autox: --version: no stored result of autox-httpbin-iter8-0a1b2c3d4e (version 1.0.0): ConfigMap autox/autox-httpbin-iter8-0a1b2c3d4e is gone (it is deleted with its PipelineRun; was it deleted by hand?)\n"},
		{"--compare with one version stored", func(t *testing.T) cluster {
			return cluster{objs: []runtime.Object{v1.PipelineRun(t), v2Cancelled.PipelineRun(t)}, results: map[pipelinerunstest.PR]*result.Result{v1: passing(t)}}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			"autox: --compare: autox-httpbin-iter8 has 2 versions with a run (2.0.0, 1.0.0); only 1.0.0 has a stored result (autox report --version V says why one has none); compare once two versions have finished\n"},
		{"--compare, every run pruned, no history", func(t *testing.T) cluster {
			return cluster{}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			"autox: -g: no group autox-httpbin-iter8: namespace autox has no autox runs or Triggers; is autox installed there? -n names another namespace\n"},
		{"--compare, every run pruned, the history forbidden", func(t *testing.T) cluster {
			return cluster{history: []kept{{v1, true, passing(t)}}, forbidden: true}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			"autox: -g: no group autox-httpbin-iter8: namespace autox has no autox runs or Triggers; is autox installed there? -n names another namespace\n"},
		{"--compare, every run pruned, one version in the history", func(t *testing.T) cluster {
			return cluster{history: []kept{{v1, true, passing(t)}}}
		}, reportConfig{Group: "autox-httpbin-iter8", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			"autox: --compare: autox-httpbin-iter8 has 1 versions with a run or in its history (1.0.0); only 1.0.0 has a stored result; compare once two versions have finished\n"},
		{"--compare, every run pruned, two histories by that name", func(t *testing.T) cluster {
			ab := pipelinerunstest.PR{Group: "a-b", Spec: "c", Version: "1.0.0", Hash: "0a1b2c3d4e", DecidedAt: t0, Status: pipelinerunstest.Succeeded}
			bc := pipelinerunstest.PR{Group: "a", Spec: "b-c", Version: "1.0.0", Hash: "5f6a7b8c9d", DecidedAt: t0, Status: pipelinerunstest.Succeeded}
			return cluster{history: []kept{{ab, true, passing(t)}, {bc, true, passing(t)}}}
		}, reportConfig{Group: "autox-a-b-c", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			"autox: -g: autox-a-b-c names the histories of group \"a\" spec \"b-c\" and group \"a-b\" spec \"c\" and no run; rename one group or spec (kubectl get configmaps -n autox-system -l autox.dev/history=true -L autox.dev/group,autox.dev/spec lists each)\n"},
		{"no such group", func(t *testing.T) cluster {
			return cluster{objs: []runtime.Object{v1.PipelineRun(t)}}
		}, reportConfig{Group: "autox-httpbin-iter", Output: "text"},
			"autox: -g: no group autox-httpbin-iter; the groups with runs are: autox-httpbin-iter8; did you mean autox-httpbin-iter8?\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := reportRun(context.Background(), tc.cfg, tc.cluster(t).finder(t), &stdout, logging.New(&bytes.Buffer{}, slog.LevelInfo))
			if code := cli.Exit("autox", err, &stderr); code != 2 {
				t.Errorf("exit %d, want 2 (error %v)", code, err)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			if diff := cmp.Diff(tc.want, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReportBadInput: flags are checked before the cluster is read.
func TestReportBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no -g", nil,
			"autox: -g: missing; name the experiment group as autox-<group>-<spec>, e.g. -g autox-httpbin-iter8\n"},
		{"unknown -o", []string{"-g", "autox-httpbin-iter8", "-o", "pdf"},
			"autox: -o: \"pdf\" is not an output format; write text, html or json\n"},
		{"--compare 1", []string{"-g", "autox-httpbin-iter8", "--compare", "1"},
			"autox: -compare: \"1\" is not a whole number within 2..100; write one such as 2\n"},
		{"--compare 0", []string{"-g", "autox-httpbin-iter8", "--compare", "0"},
			"autox: -compare: \"0\" is not a whole number within 2..100; write one such as 2\n"},
		{"--compare out of range", []string{"-g", "autox-httpbin-iter8", "--compare", "99999999999999999999"},
			"autox: -compare: \"99999999999999999999\" is not a whole number within 2..100; write one such as 2\n"},
		{"--compare with --version", []string{"-g", "autox-httpbin-iter8", "--compare", "2", "--version", "1.0.0"},
			"autox: --version: cannot be given with --compare, which takes the latest versions; give one of them\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := autox(t, append([]string{"report"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if diff := cmp.Diff(tc.want, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// ran sets r's times as its run p would have them: the load starts a
// second after the decision and the run ends two minutes later.
func ran(r *result.Result, p pipelinerunstest.PR) *result.Result {
	r.StartTime, r.EndTime = p.DecidedAt.Add(time.Second), p.DecidedAt.Add(2*time.Minute)
	return r
}

// TestReportCompareHistory: --compare reads the group's history in
// autox-system, so versions whose runs were pruned are still compared,
// each shown as a version whose run remains is; a run that remains gives
// its result ConfigMap, else the history's copy. A history that cannot
// be read leaves today's comparison, with a note.
func TestReportCompareHistory(t *testing.T) {
	v1 := pr("1.0.0", "0a1b2c3d4e", 1*time.Hour, pipelinerunstest.Succeeded)
	v2 := pr("2.0.0", "5f6a7b8c9d", 2*time.Hour, pipelinerunstest.Failed)
	v3 := pr("3.0.0", "4444444444", 3*time.Hour, pipelinerunstest.Succeeded)
	v4 := pr("4.0.0", "7777777777", 4*time.Hour, pipelinerunstest.Succeeded)
	r1, r2, r3, r4 := ran(passing(t), v1), ran(slow(t), v2), ran(passing(t), v3), ran(passing(t), v4)
	// 3.0.0 judged against 1.0.0, the last version that passed.
	r3.Regression = &result.Regression{Baseline: &result.Baseline{Version: "1.0.0", Run: v1.Name(), EndTime: r1.EndTime}, Alpha: 0.01, Verdicts: []result.RegressionVerdict{
		{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 7.94, Candidate: 7.96, Ratio: 1.0025, P: 0.4812, Slower: 0.5},
	}}
	keptAll := []kept{{v1, true, r1}, {v2, false, r2}, {v3, true, r3}}
	historyCopy := func(t *testing.T, r *result.Result) *result.Result {
		t.Helper()
		gz, _, err := history.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := history.Decode(gz)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	col := func(p pipelinerunstest.PR, r *result.Result) report.Column {
		return report.Column{Version: p.Version, Run: p.Name(), Result: r}
	}
	text := func(cols ...report.Column) string {
		var b bytes.Buffer
		if err := report.CompareText(&b, "autox-httpbin-iter8", cols); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	asJSON := func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + "\n"
	}
	cfg := func(output string, n int) reportConfig {
		return reportConfig{Group: "autox-httpbin-iter8", Output: output, Compare: n, compareSet: true, HistoryNamespace: "autox-system"}
	}
	for _, tc := range []struct {
		name       string
		cluster    cluster
		cfg        reportConfig
		wantStdout func(t *testing.T) string
		wantStderr string
	}{
		{
			name:    "every run and result ConfigMap pruned: the history's three versions",
			cluster: cluster{history: keptAll},
			cfg:     cfg("text", 3),
			wantStdout: func(t *testing.T) string {
				return text(col(v1, historyCopy(t, r1)), col(v2, historyCopy(t, r2)), col(v3, historyCopy(t, r3)))
			},
		},
		{
			name:    "every run pruned, -o json",
			cluster: cluster{history: keptAll},
			cfg:     cfg("json", 3),
			wantStdout: func(t *testing.T) string {
				return asJSON([]compared{{"1.0.0", v1.Name(), historyCopy(t, r1)}, {"2.0.0", v2.Name(), historyCopy(t, r2)}, {"3.0.0", v3.Name(), historyCopy(t, r3)}})
			},
		},
		{
			// Without runs, each cut of autox-my-app-smoke-test into a
			// group and a spec is tried by name.
			name: "every run pruned, a group and spec with dashes",
			cluster: cluster{history: []kept{
				{pipelinerunstest.PR{Group: "my-app", Spec: "smoke-test", Version: "1.0.0", Hash: "0a1b2c3d4e", DecidedAt: v1.DecidedAt}, true, r1},
				{pipelinerunstest.PR{Group: "my-app", Spec: "smoke-test", Version: "2.0.0", Hash: "5f6a7b8c9d", DecidedAt: v2.DecidedAt}, false, r2},
			}},
			cfg: reportConfig{Group: "autox-my-app-smoke-test", Output: "text", Compare: 2, compareSet: true, HistoryNamespace: "autox-system"},
			wantStdout: func(t *testing.T) string {
				var b bytes.Buffer
				if err := report.CompareText(&b, "autox-my-app-smoke-test", []report.Column{
					{Version: "1.0.0", Run: "autox-my-app-smoke-test-0a1b2c3d4e", Result: historyCopy(t, r1)},
					{Version: "2.0.0", Run: "autox-my-app-smoke-test-5f6a7b8c9d", Result: historyCopy(t, r2)},
				}); err != nil {
					t.Fatal(err)
				}
				return b.String()
			},
		},
		{
			name:    "every run pruned, the last two of three",
			cluster: cluster{history: keptAll},
			cfg:     cfg("text", 2),
			wantStdout: func(t *testing.T) string {
				return text(col(v2, historyCopy(t, r2)), col(v3, historyCopy(t, r3)))
			},
		},
		{
			// 1.0.0 only in the history; 2.0.0's run remains, its ConfigMap
			// is gone; 3.0.0's run and ConfigMap remain; 4.0.0 is not kept yet.
			name: "history and runs that remain",
			cluster: cluster{objs: []runtime.Object{v2.PipelineRun(t), v3.PipelineRun(t), v4.PipelineRun(t)},
				results: map[pipelinerunstest.PR]*result.Result{v3: r3, v4: r4}, history: keptAll},
			cfg: cfg("text", 4),
			wantStdout: func(t *testing.T) string {
				return text(col(v1, historyCopy(t, r1)), col(v2, historyCopy(t, r2)), col(v3, r3), col(v4, r4))
			},
		},
		{
			name: "a history that cannot be read: the runs that remain, and a note",
			cluster: cluster{objs: []runtime.Object{v3.PipelineRun(t), v4.PipelineRun(t)},
				results: map[pipelinerunstest.PR]*result.Result{v3: r3, v4: r4}, history: keptAll, forbidden: true},
			cfg: cfg("text", 3),
			wantStdout: func(t *testing.T) string {
				return text(col(v3, r3), col(v4, r4))
			},
			wantStderr: `::warning::the group's history could not be read; comparing the versions whose runs remain history=autox-system/autox-history-httpbin.iter8 why=reading the history of httpbin/iter8: configmaps "autox-history-httpbin.iter8" is forbidden: User "dev" cannot get resource "configmaps" in API group "" in the namespace "autox-system"
fewer versions with a stored result than asked; comparing those asked=3 versions=2
`,
		},
		{
			name: "no history: the runs that remain, and a note",
			cluster: cluster{objs: []runtime.Object{v3.PipelineRun(t), v4.PipelineRun(t)},
				results: map[pipelinerunstest.PR]*result.Result{v3: r3, v4: r4}},
			cfg: cfg("text", 2),
			wantStdout: func(t *testing.T) string {
				return text(col(v3, r3), col(v4, r4))
			},
			wantStderr: noHistory,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := reportRun(context.Background(), tc.cfg, tc.cluster.finder(t), &stdout, logging.New(&stderr, slog.LevelInfo)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.Split(tc.wantStdout(t), "\n"), strings.Split(stdout.String(), "\n")); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
