// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/result"
)

const regressGroup = "autox-httpbin-regress"

// regressTrigger applies the seed's HTTP Trigger as spec "regress", with
// assess.regression on http-get's mean (at most 1.10 times the
// baseline's) and p99 (1.50: a p99 of 300 requests spreads more than 10%
// from run to run, which blocks of one run cannot see; README "Choose
// limits above the run-to-run spread"), through autox generate as a user
// would.
func regressTrigger(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "generate", "testdata", "seed-http.args"))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Replace(string(b), "helm install", autoxCLI(t)+" generate", 1)
	line = strings.ReplaceAll(line, "specs.iter8.", "specs.regress.")
	line = strings.Replace(line, "http.numRequests=200", "http.numRequests=300", 1)
	// 100/s on 4 connections: 2.0.0's 25 ms answers keep them 60% busy,
	// so what is measured is the service, not a queue.
	line = strings.TrimRight(line, "\n") + ` \
--set groups.httpbin.specs.regress.values.http.qps=100 \
--set groups.httpbin.specs.regress.values.assess.regression.maxRatio.http-get/latency-p99=1.50 \
--set groups.httpbin.specs.regress.values.assess.regression.maxRatio.http-get/latency-mean=1.10 \
--set groups.httpbin.specs.regress.values.assess.regression.alpha=0.01
`
	cmd := exec.Command("bash", "-c", line)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("autox generate: %v\n%s", err, e.String())
	}
	if !strings.Contains(o.String(), "maxRatio: {http-get/latency-mean: 1.1, http-get/latency-p99: 1.5}") {
		t.Fatalf("the Trigger lacks assess.regression:\n%s", o.String())
	}
	if out, err := kubectl(t, o.String(), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// historyOf reads the group's history as the runs' ServiceAccount may.
func historyOf(t *testing.T) *history.History {
	t.Helper()
	c := installed(t)
	h, err := history.Store{ConfigMaps: c.Kube.CoreV1(), Namespace: systemNS}.Load(context.Background(), "httpbin", "regress")
	if err != nil {
		return nil
	}
	return h
}

func historyHas(t *testing.T, version string) func() (bool, string) {
	return func() (bool, string) {
		h := historyOf(t)
		if h == nil {
			return false, "no history yet"
		}
		var versions []string
		for _, e := range h.Entries {
			if e.Version == version {
				return true, ""
			}
			versions = append(versions, e.Version)
		}
		return false, "the history holds " + strings.Join(versions, ", ")
	}
}

// httpbinWith deploys httpbin with -latency (the work every answer
// takes), without the version label, and waits for the rollout.
func httpbinWith(t *testing.T, latency string) {
	t.Helper()
	app := seedApp(image(t, "httpbin"), "httpbin", 8080, 80, "")
	app = strings.Replace(app, `args: [-addr, "0.0.0.0:8080"]`, `args: [-addr, "0.0.0.0:8080", -latency, `+latency+`]`, 1)
	app = strings.Replace(app, `, app.kubernetes.io/version: "1.0.0"`, "", 1)
	if !strings.Contains(app, "-latency") || strings.Contains(app, "app.kubernetes.io/version") {
		t.Fatalf("could not make httpbin with -latency %s:\n%s", latency, app)
	}
	if err := applyRetrying(t, 30*time.Second, "-n", seedNS, "-f", writeTemp(t, app)); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl(t, "", "-n", seedNS, "rollout", "status", "deploy/httpbin", "--timeout=180s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestRegressionVerdicts: a group with assess.regression on the test
// cluster. The first version has no baseline and passes; the same build
// relabelled ten times never fails (the false-positive rate is logged),
// each judged against the last version that passed, from the history the
// interceptor keeps in autox-system; a version 20 ms slower on every
// answer fails with p < 0.01 and the ratio in the report, the summary
// and autox assert -c noregression. With every run of the group deleted
// (their result ConfigMaps go with them), autox report --compare 3 still
// shows three versions, from the history.
func TestRegressionVerdicts(t *testing.T) {
	c := triggersUp(t)
	unlabel(t, "httpbin")
	kubectl(t, "", "-n", systemNS, "delete", "trigger", "autox-httpbin-iter8", regressGroup, "--ignore-not-found", "--wait=true")
	kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=httpbin", "--cascade=foreground", "--wait=true")
	t.Cleanup(func() {
		kubectl(t, "", "-n", systemNS, "delete", "trigger", regressGroup, "--ignore-not-found", "--wait=true")
		kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=httpbin", "--cascade=foreground", "--wait=true")
		kubectl(t, "", "-n", seedNS, "apply", "-f", writeTemp(t, seedApp(image(t, "httpbin"), "httpbin", 8080, 80, "")))
	})
	// A Trigger made afresh starts a new record and history (both are
	// owned by it): none is left from an earlier test run.
	waitFor(t, 60*time.Second, "the history of an earlier Trigger to go", func() (bool, string) {
		return historyOf(t) == nil, "it is still there"
	})

	step(t, "httpbin answering after 5 ms of work; a Trigger with assess.regression")
	httpbinWith(t, "5ms")
	regressTrigger(t)

	assertVersion := func(version string, conds ...string) (string, int) {
		t.Helper()
		args := []string{"assert", "-g", regressGroup, "--version", version, "-t", "5m"}
		for _, c := range conds {
			args = append(args, "-c", c)
		}
		stdout, stderr, code := autoxRun(t, args...)
		t.Logf("autox assert (%s): exit %d\n%s%s", version, code, stdout, stderr)
		return stdout, code
	}
	reportOf := func(version string) *result.Result {
		t.Helper()
		stdout, stderr, code := autoxRun(t, "report", "-g", regressGroup, "--version", version, "-o", "json")
		if code != 0 {
			t.Fatalf("autox report --version %s -o json: exit %d\n%s", version, code, stderr)
		}
		var r result.Result
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("autox report -o json: %v\n%s", err, stdout)
		}
		return &r
	}

	label(t, "httpbin", "1.0.0")
	if out, code := assertVersion("1.0.0", "completed", "nofailure", "slos", "noregression"); code != 0 || !strings.Contains(out, "no baseline") {
		t.Fatalf("1.0.0: exit %d, want 0 and no baseline:\n%s", code, out)
	}
	waitFor(t, 30*time.Second, "1.0.0 in the history", historyHas(t, "1.0.0"))

	step(t, "the same build relabelled ten times")
	const relabels = 10
	regressed, significant := 0, 0
	for i := 1; i <= relabels; i++ {
		v := fmt.Sprintf("1.0.%d", i)
		label(t, "httpbin", v)
		out, code := assertVersion(v, "completed", "nofailure", "noregression")
		r := reportOf(v)
		if r.Regression == nil || r.Regression.Baseline == nil || len(r.Regression.Verdicts) != 2 {
			t.Fatalf("%s: regression %+v, want a baseline and two verdicts", v, r.Regression)
		}
		for _, rv := range r.Regression.Verdicts {
			t.Logf("same build %s against %s: %s %.3f -> %.3f ms, ratio %.3f, p %.3g, regressed %t",
				v, r.Regression.Baseline.Version, rv.Metric, rv.Baseline, rv.Candidate, rv.Ratio, rv.P, rv.Regressed)
			if rv.P < 0.01 {
				significant++
			}
		}
		if r.Regressed {
			regressed++
		} else if code != 0 {
			t.Errorf("%s did not regress, yet autox assert exits %d:\n%s", v, code, out)
		}
		waitFor(t, 30*time.Second, v+" in the history", historyHas(t, v))
	}
	t.Logf("e2e: the same build relabelled %d times: regressed %d (false-positive rate %.0f%%), p < 0.01 in %d of %d metrics",
		relabels, regressed, 100*float64(regressed)/relabels, significant, 2*relabels)
	if regressed != 0 {
		t.Errorf("the same build regressed %d times in %d, want never", regressed, relabels)
	}

	step(t, "2.0.0: 20 ms slower on every answer")
	unlabel(t, "httpbin")
	httpbinWith(t, "25ms")
	label(t, "httpbin", "2.0.0")
	out, code := assertVersion("2.0.0", "completed", "nofailure", "slos", "noregression")
	if code != 1 || !strings.Contains(out, "http-get/latency-p99") || !strings.Contains(out, "1.0.10") {
		t.Errorf("2.0.0: exit %d, want 1 naming http-get/latency-p99 and the baseline 1.0.10:\n%s", code, out)
	}
	r := reportOf("2.0.0")
	if !r.Regressed || r.Regression.Baseline == nil || r.Regression.Baseline.Version != "1.0.10" {
		t.Fatalf("2.0.0: regressed %t, regression %+v; want regressed against 1.0.10", r.Regressed, r.Regression)
	}
	for _, rv := range r.Regression.Verdicts {
		t.Logf("e2e: 2.0.0 against 1.0.10: %s %.3f -> %.3f ms, ratio %.2f, p %.3g", rv.Metric, rv.Baseline, rv.Candidate, rv.Ratio, rv.P)
		if !rv.Regressed || rv.P >= 0.01 || rv.Ratio < 2 {
			t.Errorf("2.0.0, %s: %+v; want regressed, p < 0.01, ratio above 2", rv.Metric, rv)
		}
	}
	text, _, _ := autoxRun(t, "report", "-g", regressGroup, "--version", "2.0.0")
	for _, want := range []string{"1.0.10", "http-get/latency-p99", "FAIL"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report of 2.0.0 lacks %q:\n%s", want, text)
		}
	}
	runs := runsOf(t, c, "httpbin")
	summary := taskRunResultsOf(t, runs[len(runs)-1].GetName())["summary"]
	if !strings.Contains(summary, "http-get/latency-p99") || !strings.Contains(summary, "1.0.10") {
		t.Errorf("the summary result of 2.0.0 lacks the regression of http-get/latency-p99 against 1.0.10:\n%s", summary)
	}
	waitFor(t, 30*time.Second, "2.0.0 in the history", historyHas(t, "2.0.0"))
	h := historyOf(t)
	cm, err := c.Kube.CoreV1().ConfigMaps(systemNS).Get(context.Background(), history.Name("httpbin", "regress"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	size := len(cm.Data[history.IndexKey])
	for _, b := range cm.BinaryData {
		size += len(b)
	}
	t.Logf("e2e: the history of httpbin/regress: %d versions, %d bytes", len(h.Entries), size)
	if len(h.Entries) != history.MaxVersions || size > 1<<20/2 {
		t.Errorf("the history holds %d versions in %d bytes, want %d in less than 512 KiB", len(h.Entries), size, history.MaxVersions)
	}

	step(t, "every run of the group deleted: the history still compares three versions")
	unlabel(t, "httpbin")
	kubectl(t, "", "-n", autoxNS, "delete", "pipelineruns", "-l", "autox.dev/group=httpbin", "--cascade=foreground", "--wait=true")
	waitFor(t, 60*time.Second, "the result ConfigMaps to go with their runs", func() (bool, string) {
		out, _ := kubectl(t, "", "-n", autoxNS, "get", "configmaps", "-l", "autox.dev/group=httpbin", "-o", "name")
		return strings.TrimSpace(out) == "", out
	})
	stdout, stderr, code := autoxRun(t, "report", "-g", regressGroup, "--compare", "3")
	t.Logf("autox report --compare 3 with no runs left: exit %d\n%s%s", code, stdout, stderr)
	if code != 0 {
		t.Fatalf("autox report --compare 3: exit %d", code)
	}
	for _, want := range []string{"1.0.9", "1.0.10", "2.0.0", "http-get/latency-p99"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the comparison lacks %q", want)
		}
	}
}

// taskRunResultsOf are the results of the experiment TaskRun of run.
func taskRunResultsOf(t *testing.T, run string) map[string]string {
	t.Helper()
	out, err := kubectl(t, "", "-n", autoxNS, "get", "taskruns", "-l", "tekton.dev/pipelineRun="+run+",tekton.dev/pipelineTask=experiment",
		"-o", "jsonpath={range .items[0].status.results[*]}{.name}={.value}{\"\\u0000\"}{end}")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	results := map[string]string{}
	for _, kv := range strings.Split(out, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			results[k] = v
		}
	}
	return results
}
