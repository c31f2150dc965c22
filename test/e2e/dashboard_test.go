// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// What users see of autox runs in the Tekton Dashboard: a real Dashboard
// (test/cluster/dashboard.sh, read-only, opened on loopback by
// make dashboard) read by a real headless Chromium. The assertions are on
// the DOM the Dashboard renders, each compared with what the cluster holds;
// screenshots are left in $AUTOX_E2E_OUT for people.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/autox-tekton/autox/internal/kube"
)

// dashboardNS is where the Dashboard's installer puts it (its default).
const dashboardNS = "tekton-pipelines"

// assess is the assess step's displayName in tasks/autox-experiment.
const assess = "Check the SLOs and keep the result"

// dashboardGroup is the autox.dev/group of the runs this test makes: the
// seed's app.
const dashboardGroup = "httpbin"

// dashboard is the Dashboard's URL (AUTOX_DASHBOARD_URL, which make e2e
// sets from test/cluster/dashboard.sh). It fails, saying which, when the
// Dashboard was not built and installed, or does not answer there.
func dashboard(t *testing.T) string {
	t.Helper()
	base := os.Getenv("AUTOX_DASHBOARD_URL")
	if base == "" {
		t.Fatal("the Tekton Dashboard was not built: AUTOX_DASHBOARD_URL is not set; run make e2e, which builds, installs and opens it (test/cluster/dashboard.sh), or make dashboard")
	}
	if out, err := kubectl(t, "", "-n", dashboardNS, "get", "deployment", "tekton-dashboard", "-o", "jsonpath={.status.availableReplicas}"); err != nil || out != "1" {
		t.Fatalf("the Tekton Dashboard is not installed or not running: deployment %s/tekton-dashboard has %q available replicas (%v); run make dashboard", dashboardNS, out, err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "v1/properties")
	if err != nil {
		t.Fatalf("the Tekton Dashboard is not reachable at %s: %v; make dashboard starts its port-forward again", base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var props struct {
		IsReadOnly bool `json:"isReadOnly"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &props) != nil {
		t.Fatalf("the Tekton Dashboard at %s answered %s: %s", base, resp.Status, b)
	}
	if !props.IsReadOnly {
		t.Errorf("the Tekton Dashboard at %s is not read-only: %s", base, b)
	}
	return base
}

// browser starts headless Chromium (Debian's) for the test and stops it,
// and everything it started, when the test ends. Nothing leaves loopback:
// every host name but 127.0.0.1 resolves to nothing.
func browser(t *testing.T) context.Context {
	t.Helper()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s: %v; make deps installs Debian's chromium", chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("no-sandbox", true), // root in a container
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1440, 900),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx
}

// page opens the Dashboard at route (after #/) and waits until the
// JavaScript expression ready is truthy; then it returns what the
// expression read evaluates to.
func page[T any](ctx context.Context, t *testing.T, base, route, what, ready, read string) T {
	t.Helper()
	step(t, "open %s#/%s and wait for %s", base, route, what)
	// A fresh load, as a user opening the link: the Dashboard reads a
	// run page's step and view from the URL when the page mounts only.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(base+"#/"+route)); err != nil {
		t.Fatalf("opening %s#/%s: %v", base, route, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		shoot(ctx, t, "dashboard-timeout.png")
		t.Fatalf("the Dashboard did not show %s at %s#/%s: %v\nthe page says:\n%s", what, base, route, err, body)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](read))
	if err != nil {
		t.Fatalf("reading %s from the Dashboard: %v", what, err)
	}
	return v
}

// shoot writes a screenshot of the whole page (beyond the window) to
// $AUTOX_E2E_OUT.
func shoot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("AUTOX_E2E_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Errorf("writing %s: %v", file, err)
		return
	}
	t.Logf("e2e: Dashboard screenshot %s", file)
}

// stepLog is the log of a step's container, as Kubernetes keeps it.
func stepLog(t *testing.T, c *kube.Clients, r *pipelineRun, stepName string) string {
	t.Helper()
	pod, _, _ := unstructured.NestedString(r.taskRun.Object, "status", "podName")
	b, err := c.Kube.CoreV1().Pods(autoxNS).GetLogs(pod, &corev1.PodLogOptions{Container: "step-" + stepName}).Do(context.Background()).Raw()
	if err != nil {
		t.Fatalf("the log of step %s of pod %s: %v", stepName, pod, err)
	}
	return string(b)
}

// logLine is one line of the Dashboard's log viewer: its level (the
// tkn--log-level--<level> class; "" for none) and its text.
type logLine struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

// stepLogJS is JavaScript that finds the log viewer of the step shown
// as name on the run page: ready is truthy once the log is complete (its
// trailer, "Step completed successfully" or "Step failed", is shown), read
// evaluates to its lines.
func stepLogJS(name string) (ready, read string) {
	log := fmt.Sprintf(`Array.from(document.querySelectorAll('.tkn--step')).find(s => s.querySelector('.tkn--step-name')?.textContent === %q)?.querySelector('.tkn--log')`, name)
	ready = `(l => l && l.querySelector('.tkn--log-trailer') !== null && l.querySelectorAll('.tkn--log-line').length > 0)(` + log + `)`
	read = `Array.from(` + log + `.querySelectorAll('.tkn--log-line')).map(l => ({
  level: (Array.from(l.classList).find(c => c.startsWith('tkn--log-level--')) || '').replace('tkn--log-level--', ''),
  text: (l.querySelector('.tkn--log-line--content') || {textContent: ''}).textContent
}))`
	return ready, read
}

// wantLog is how the Dashboard documents that it shows a step's log
// (docs/logs.md): each line's ::<level>:: prefix becomes its level.
func wantLog(raw string) []logLine {
	var out []logLine
	for _, l := range strings.Split(raw, "\n") {
		line := logLine{Text: l}
		for _, level := range []string{"error", "warning", "notice", "info", "debug", "trace"} {
			if rest, ok := strings.CutPrefix(l, "::"+level+"::"); ok {
				line = logLine{Level: level, Text: rest}
			}
		}
		if line.Level == "debug" || line.Level == "trace" { // hidden by default
			continue
		}
		out = append(out, line)
	}
	return out
}

// runPage is what the run page shows with the experiment task's assess
// step open: each task's title and reason, the step names, the log.
type runPage struct {
	Tasks []string  `json:"tasks"`
	Steps []string  `json:"steps"`
	Log   []logLine `json:"log"`
}

// taskTable reads a table of the TaskRun's details (params or results) as
// name: value.
const taskTable = `Object.fromEntries(Array.from(document.querySelectorAll('.tkn--step-status table tbody tr')).map(tr => {
  const td = tr.querySelectorAll('td');
  return [td[0].textContent.trim(), (td[1].querySelector('[title]') || td[1]).getAttribute('title') ?? td[1].textContent];
}))`

// TestDashboardShowsAutoxRuns: the seed's HTTP experiment and one with an
// impossible SLO, run as PipelineRuns of group httpbin, read in the
// Dashboard as a user reads them: the list filtered by the group, then
// each run's page (task and step names, the assess step's log with the
// text report, the results).
func TestDashboardShowsAutoxRuns(t *testing.T) {
	base := dashboard(t)
	c := installed(t)
	clean := func() {
		kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group="+dashboardGroup, "--cascade=foreground", "--wait=true")
	}
	clean()
	t.Cleanup(clean)
	passed := runExperiment(t, c, dashboardGroup, seedHTTP)
	failed := runExperiment(t, c, dashboardGroup, strings.NewReplacer("http-get/latency-mean: 50", "http-get/latency-mean: 0.001", "numRequests: 200", "numRequests: 16").Replace(seedHTTP))
	if !passed.succeeded || failed.succeeded {
		t.Fatalf("want %s Succeeded and %s Failed; got %s and %s\n%s", passed.name, failed.name, passed.reason, failed.reason, tknLogs(t, failed.name))
	}
	ctx := browser(t)

	// The list, filtered by the group: the URL the Dashboard's label filter
	// makes of autox.dev/group:httpbin.
	route := "namespaces/" + autoxNS + "/pipelineruns?labelSelector=" + url.QueryEscape("autox.dev/group="+dashboardGroup)
	rows := page[map[string]string](ctx, t, base, route, "both runs in the list",
		fmt.Sprintf(`document.querySelectorAll('tbody tr').length === 2 && [%q, %q].every(n => Array.from(document.querySelectorAll('tbody tr a')).some(a => a.textContent === n))`, passed.name, failed.name),
		`Object.fromEntries(Array.from(document.querySelectorAll('tbody tr')).map(tr => [tr.querySelector('a').textContent, tr.querySelector('.tkn--status').dataset.reason + ': ' + tr.querySelector('.tkn--status').textContent]))`)
	want := map[string]string{passed.name: "Succeeded: Succeeded", failed.name: "Failed: Failed"}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("the PipelineRuns list filtered by autox.dev/group=%s, name: status (-want +got):\n%s", dashboardGroup, diff)
	}
	shoot(ctx, t, "dashboard-pipelineruns.png")

	// The steps' displayName in tasks/autox-experiment.
	steps := []string{"Wait until the workload is ready", "Send the HTTP load (if tasks lists http)", "Send the gRPC load (if tasks lists grpc)", assess}
	for _, tc := range []struct {
		run    *pipelineRun
		reason string
		shot   string
	}{
		{passed, "Succeeded", "dashboard-run-succeeded.png"},
		// What Tekton writes for a failed step: Failed up to v1.9,
		// StepFailed in newer releases (TaskRunReasonStepFailed).
		{failed, failedStepReason(t, failed), "dashboard-run-failed.png"},
	} {
		t.Run(tc.run.name, func(t *testing.T) {
			r := tc.run
			route := "namespaces/" + autoxNS + "/pipelineruns/" + r.name + "?pipelineTask=experiment&step=assess"
			ready, read := stepLogJS(assess)
			got := page[runPage](ctx, t, base, route, "the assess step's log", ready,
				`({tasks: Array.from(document.querySelectorAll('.tkn--task')).map(e => e.querySelector('.tkn--task-title--name').textContent + ': ' + e.dataset.reason),
				  steps: Array.from(document.querySelectorAll('.tkn--step-name')).map(e => e.textContent),
				  log: `+read+`})`)
			shoot(ctx, t, tc.shot)
			wantPage := runPage{
				Tasks: []string{"Performance test of httpbin 1.0.0: " + tc.reason, "Notify: httpbin 1.0.0: Succeeded"},
				Steps: steps,
				Log:   wantLog(stepLog(t, c, r, "assess")),
			}
			if diff := cmp.Diff(wantPage, got); diff != "" {
				t.Errorf("run page of %s: tasks, status, steps, assess log (-want +got):\n%s", r.name, diff)
			}
			// The text report, as the logs show it: every metric row.
			shown := map[string]string{}
			for _, l := range got.Log {
				for k, v := range reportMetrics(l.Text + "\n") {
					shown[k] = v
				}
			}
			if len(shown) < 3*5 {
				t.Errorf("the assess log in the Dashboard shows %d metric rows of the text report, want at least 15:\n%v", len(shown), got.Log)
			}

			// The step the experiment does not list ended at once, and its
			// log, one click away, says why.
			ready, read = stepLogJS(steps[2])
			grpc := page[[]logLine](ctx, t, base, "namespaces/"+autoxNS+"/pipelineruns/"+r.name+"?pipelineTask=experiment&step=grpc", "the grpc step's log", ready, read)
			if want := wantLog("grpc is not in the experiment's tasks [ready, http, assess]; nothing to do\n"); !cmp.Equal(want, grpc) {
				t.Errorf("the grpc step's log in the Dashboard (-want +got):\n%s", cmp.Diff(want, grpc))
			}

			results := page[map[string]string](ctx, t, base, "namespaces/"+autoxNS+"/pipelineruns/"+r.name+"?pipelineTask=experiment&view=results",
				"the experiment's results", `document.querySelectorAll('.tkn--step-status table tbody tr').length >= 2`, taskTable)
			want := taskRunResults(r.taskRun)
			if diff := cmp.Diff(want, results); diff != "" {
				t.Errorf("results of %s's experiment task (-want +got):\n%s", r.name, diff)
			}
			if tc.reason == "Succeeded" {
				if results["slos-satisfied"] != "true" || !strings.Contains(results["summary"], "PASS http-get/latency-mean") {
					t.Errorf("results shown: slos-satisfied %q, summary %q; want true and a PASS line per SLO", results["slos-satisfied"], results["summary"])
				}
				return
			}

			// The failed run: the breach at error level, named.
			var errs []string
			for _, l := range got.Log {
				if l.Level == "error" {
					errs = append(errs, l.Text)
				}
			}
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "http-get/latency-mean") {
				t.Errorf("no line at error level names http-get/latency-mean; error lines: %q", errs)
			}
			for _, l := range got.Log {
				if strings.Contains(l.Text, "::error::") {
					t.Errorf("a line shows its ::error:: prefix instead of the error level: %q", l.Text)
				}
			}
			if results["slos-satisfied"] != "false" || !strings.Contains(results["summary"], "FAIL http-get/latency-mean (msec) <= 0.001 (observed ") {
				t.Errorf("results shown: slos-satisfied %q, summary %q; want false and the FAIL line of http-get/latency-mean", results["slos-satisfied"], results["summary"])
			}
			// The TaskRun's message, as the Status tab shows it. Tekton
			// v1.9.0 builds it from the failed container's name, exit code
			// and reason only (pkg/pod/status.go getFailureMessage): the SLO
			// is named by the summary result beside it, in the same tab.
			status := page[string](ctx, t, base, "namespaces/"+autoxNS+"/pipelineruns/"+r.name+"?pipelineTask=experiment&view=status",
				"the experiment's status", `document.querySelector('.tkn--step-status')?.innerText.includes('conditions')`,
				`document.querySelector('.tkn--step-status').innerText`)
			_, _, msg := condition(r.taskRun)
			for _, w := range []string{msg, `"step-assess" exited with code 1`, "FAIL http-get/latency-mean (msec) <= 0.001"} {
				if !strings.Contains(status, w) {
					t.Errorf("the Status tab of %s's experiment task lacks %q:\n%s", r.name, w, status)
				}
			}
		})
	}
}

// failedStepReason is the reason of r's TaskRun, which failed in a step:
// the Dashboard shows it as the task's.
func failedStepReason(t *testing.T, r *pipelineRun) string {
	t.Helper()
	_, reason, _ := condition(r.taskRun)
	if reason != "Failed" && reason != "StepFailed" {
		t.Fatalf("TaskRun of %s failed with reason %q; want Failed (Tekton v1.9) or StepFailed (newer)", r.name, reason)
	}
	return reason
}
