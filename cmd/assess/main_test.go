// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/kube"
)

// noCluster fails the test if assess asks for the cluster.
func noCluster(t *testing.T) func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
	return func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
		t.Error("assess connected to a cluster without -pipelinerun or -taskrun")
		return nil, errors.New("no cluster in this test")
	}
}

func runIt(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	err := runAssess(context.Background(), args, &out, &errs, func(k string) string { return env[k] }, noCluster(t))
	return cli.Exit("assess", err, &errs), out.String(), errs.String()
}

func TestMissingMetricsIsAFailedExperiment(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http, assess]\nhttp: {url: http://127.0.0.1:1/}\nassess: {SLOs: {upper: {http/error-count: 0}}}\n")
	code, stdout, stderr := runIt(t, nil, "-f", exp, "-dir", dir)
	if code != 3 {
		t.Errorf("exit %d, want 3; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"  Experiment completed: false\n",
		"  Failure: http: no http metrics file: the http step did not finish\n",
		"::error::experiment failed: http: no http metrics file: the http step did not finish\n",
		"  http/error-count <= 0 | false (unavailable: no such metric; the report lists the metrics this experiment has)\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "result.json")); err != nil {
		t.Errorf("no result.json for a failed experiment: %v", err)
	}
}

func TestEnvironmentTwins(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [assess]\n")
	code, stdout, stderr := runIt(t, map[string]string{"AUTOX_EXPERIMENT_FILE": exp, "AUTOX_DIR": dir, "AUTOX_OUTPUT": "json"})
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	var r struct{ Completed bool }
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || !r.Completed {
		t.Errorf("stdout is not a completed JSON result (%v):\n%s", err, stdout)
	}
	code, _, stderr = runIt(t, map[string]string{"AUTOX_FAIL_ON_VIOLATION": "maybe"}, "-f", exp)
	if want := "assess: AUTOX_FAIL_ON_VIOLATION: \"maybe\" is not a valid value for -fail-on-violation (parse error); run with -h for the flags\n"; code != 2 || stderr != want {
		t.Errorf("bad env twin: exit %d, stderr %q; want exit 2, %q", code, stderr, want)
	}
}

// TestTektonResultsAndConfigMap: as the Task runs it, assess writes the
// two Tekton results and keeps result.json in a ConfigMap named after and
// owned by the run, also when an SLO does not hold (exit 1) and when the
// ready step failed (exit 3: the ready failure and the load it held are
// recorded).
func TestTektonResultsAndConfigMap(t *testing.T) {
	const notReady = "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"
	for _, tc := range []struct {
		name       string
		experiment string
		// metrics are the files the steps before assess left, by name.
		metrics       map[string]string
		env           map[string]string
		wantCode      int
		wantSatisfied string
		wantSummary   string
		wantOwner     string
		wantLabels    map[string]string
	}{
		{"a PipelineRun's, SLOs hold", "tasks: [assess]\n", nil, map[string]string{
			"AUTOX_PIPELINERUN": "autox-httpbin-iter8-1", "AUTOX_PIPELINERUN_UID": "pr-uid", "AUTOX_TASKRUN": "autox-httpbin-iter8-1-experiment", "AUTOX_TASKRUN_UID": "tr-uid",
			"AUTOX_GROUP": "httpbin", "AUTOX_SPEC": "iter8", "AUTOX_VERSION": "2.0.0", "AUTOX_NAME": "httpbin",
		}, 0, "true", "no SLOs given", "PipelineRun/autox-httpbin-iter8-1/pr-uid",
			map[string]string{
				"autox.dev/group": "httpbin", "autox.dev/spec": "iter8", "autox.dev/version": "2.0.0", "autox.dev/name": "httpbin",
				"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1",
			}},
		{"a bare TaskRun's, an SLO breached", "tasks: [assess]\nassess: {SLOs: {upper: {http-get/latency-mean: 0.001}}}\n", nil, map[string]string{
			"AUTOX_TASKRUN": "run-1", "AUTOX_TASKRUN_UID": "tr-uid",
		}, 1, "false", "FAIL http-get/latency-mean <= 0.001 (unavailable: no such metric; the report lists the metrics this experiment has)", "TaskRun/run-1/tr-uid",
			map[string]string{"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1"}},
		{"a PipelineRun's whose ready step failed", "tasks: [ready, http, assess]\nready: {deploy: web}\nhttp: {url: http://web.shop/}\nassess: {SLOs: {upper: {http/error-count: 0}}}\n",
			map[string]string{
				"ready.metrics.json": `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null, "failed": "` + notReady + `"}`,
				"http.metrics.json":  `{"version": "autox.dev/metrics/v1", "task": "http", "endpoints": null, "failed": "no load sent: the ready task failed"}`,
			},
			map[string]string{"AUTOX_PIPELINERUN": "autox-web-iter8-1", "AUTOX_PIPELINERUN_UID": "pr-uid"},
			3, "false", "FAIL http/error-count <= 0 (unavailable: no such metric; the report lists the metrics this experiment has)\n" +
				"FAILED ready: " + notReady + "\nFAILED http: no load sent: the ready task failed", "PipelineRun/autox-web-iter8-1/pr-uid",
			map[string]string{"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, results := t.TempDir(), t.TempDir()
			env := map[string]string{
				"AUTOX_EXPERIMENT": tc.experiment, "AUTOX_EXPERIMENT_SOURCE": "params.experiment", "AUTOX_DIR": dir, "AUTOX_NAMESPACE": "team",
				"AUTOX_SLOS_SATISFIED_FILE": filepath.Join(results, "slos-satisfied"), "AUTOX_SUMMARY_FILE": filepath.Join(results, "summary"),
			}
			for k, v := range tc.env {
				env[k] = v
			}
			for name, body := range tc.metrics {
				clitest.WriteFile(t, filepath.Join(dir, name), body)
			}
			client := fake.NewClientset()
			var out, errs bytes.Buffer
			err := runAssess(context.Background(), nil, &out, &errs, func(k string) string { return env[k] }, func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
				return client.CoreV1(), nil
			})
			if code := cli.Exit("assess", err, &errs); code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, errs.String())
			}
			for file, want := range map[string]string{"slos-satisfied": tc.wantSatisfied, "summary": tc.wantSummary} {
				b, err := os.ReadFile(filepath.Join(results, file))
				if err != nil || string(b) != want {
					t.Errorf("result %s: %q (%v); want %q", file, b, err, want)
				}
			}
			cms, err := client.CoreV1().ConfigMaps("team").List(context.Background(), metav1.ListOptions{})
			if err != nil || len(cms.Items) != 1 {
				t.Fatalf("ConfigMaps: %v, %v; want one", cms, err)
			}
			cm := cms.Items[0]
			o := cm.OwnerReferences[0]
			if got := o.Kind + "/" + o.Name + "/" + string(o.UID); got != tc.wantOwner || cm.Name != o.Name {
				t.Errorf("ConfigMap %s owned by %s; want one named after and owned by %s", cm.Name, got, tc.wantOwner)
			}
			if diff := cmp.Diff(tc.wantLabels, cm.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			stored, err := os.ReadFile(filepath.Join(dir, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			json.Unmarshal(stored, &a)
			json.Unmarshal([]byte(cm.Data["result.json"]), &b)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("ConfigMap's result.json differs from the step's (-want +got):\n%s", diff)
			}
			if want := "result stored in ConfigMap team/" + cm.Name; !strings.Contains(errs.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs.String())
			}
		})
	}
}

// TestBadStoreFlags: a label that Kubernetes would refuse is bad input,
// found before the assessment: nothing is written or stored.
func TestBadStoreFlags(t *testing.T) {
	const notALabel = ` is not a label value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`
	for _, tc := range []struct {
		name, env, value, want string
	}{
		{"a version with a space", "AUTOX_VERSION", "2.0.0 beta", `assess: -version: "2.0.0 beta"` + notALabel + "\n"},
		{"a name with a slash", "AUTOX_NAME", "default/httpbin", `assess: -name: "default/httpbin"` + notALabel + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"AUTOX_EXPERIMENT": "tasks: [assess]\n", "AUTOX_DIR": dir, "AUTOX_NAMESPACE": "team",
				"AUTOX_PIPELINERUN": "run-1", "AUTOX_PIPELINERUN_UID": "uid", tc.env: tc.value}
			code, stdout, stderr := runIt(t, env)
			if code != 2 || stderr != tc.want || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, stdout, stderr, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("bad input wrote %v", entries)
			}
		})
	}
}
