// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/metrics"
)

// TestFailedWorker: a worker that wrote no file, or one that says it
// failed, fails the run (exit 3), and the report names the worker; the
// others' load is reported.
func TestFailedWorker(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(files []*metrics.File) []*metrics.File
		want   string
	}{{
		name:   "no file",
		change: func(files []*metrics.File) []*metrics.File { return append(files[:2], files[3]) },
		want:   "http: worker 3 of 4 wrote no metrics (its pod failed or never ran)",
	}, {
		name: "marked failed",
		change: func(files []*metrics.File) []*metrics.File {
			files[1].Failed, files[1].Endpoints = "no load sent: the ready task failed", nil
			return files
		},
		want: "http: worker 2 of 4: no load sent: the ready task failed",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := filepath.Join(dir, "e.yaml")
			clitest.WriteFile(t, exp, "tasks: [http, assess]\nhttp: {url: http://127.0.0.1:1/, workers: 4}\n")
			var files []*metrics.File
			for i := 1; i <= 4; i++ {
				e := &metrics.Endpoint{Task: "http", Target: "GET http://127.0.0.1:1/", RequestCount: 25, Percentiles: []float64{50, 99},
					DurationSeconds: 1, Latency: metrics.NewHistogram()}
				metrics.RecordLatency(e.Latency, time.Duration(i)*time.Millisecond)
				now := time.Now().UTC()
				files = append(files, &metrics.File{Task: "http", StartTime: now, EndTime: now, Endpoints: []*metrics.Endpoint{e},
					Worker: &metrics.Worker{Index: i, Of: 4}})
			}
			for _, f := range tc.change(files) {
				if err := metrics.Write(f.Worker.Path(dir, "http"), f); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runIt(t, nil, "-f", exp, "-dir", dir)
			if code != 3 {
				t.Errorf("exit %d, want 3; stderr:\n%s", code, stderr)
			}
			for _, want := range []string{
				"  Experiment completed: false\n",
				"  Failure: " + tc.want + "\n",
				"::error::experiment failed: " + tc.want + "\n",
				"  http            | 75       |",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
}

// TestWorkerPods: the pods of a run with workers, as the Pipeline
// autox-workers runs them, through one API server's ConfigMaps: ready
// keeps its part and plans 4 load pods; three of them gather ready and
// keep their metrics (the fourth's pod was killed); assess gathers ready
// and every worker's part, merges the three, names the fourth (exit 3)
// and stores the result.
func TestWorkerPods(t *testing.T) {
	client := fake.NewClientset()
	connect := func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) { return client.CoreV1(), nil }
	const experiment = "tasks: [ready, http, assess]\nready: {deploy: web}\nhttp: {url: http://127.0.0.1:1/, workers: 4}\n"
	pod := func(dir string, args ...string) (int, string) {
		t.Helper()
		env := map[string]string{"AUTOX_EXPERIMENT": experiment, "AUTOX_DIR": dir, "AUTOX_NAMESPACE": "autox",
			"AUTOX_PIPELINERUN": "autox-web-iter8-1", "AUTOX_PIPELINERUN_UID": "pr-uid"}
		var out, errs bytes.Buffer
		err := runAssess(context.Background(), args, &out, &errs, func(k string) string { return env[k] }, connect)
		return cli.Exit("assess", err, &errs), out.String() + errs.String()
	}

	ready, results := t.TempDir(), t.TempDir()
	clitest.WriteFile(t, filepath.Join(ready, "ready.metrics.json"), `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null}`)
	if code, out := pod(ready, "-parts-only", "-keep-part", "ready", "-workers-file", filepath.Join(results, "workers"), "-start-at-file", filepath.Join(results, "start-at")); code != 0 {
		t.Fatalf("ready pod: exit %d:\n%s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(results, "workers")); string(b) != `["1","2","3","4"]` {
		t.Errorf("workers result %s", b)
	}
	for i := 1; i <= 3; i++ {
		dir := t.TempDir()
		if code, out := pod(dir, "-parts-only", "-gather", "ready"); code != 0 || !strings.Contains(out, "part ready: ready.metrics.json") {
			t.Fatalf("load pod %d gathering: exit %d:\n%s", i, code, out)
		}
		e := &metrics.Endpoint{Task: "http", Target: "GET http://127.0.0.1:1/", RequestCount: 25, Percentiles: []float64{50, 99},
			DurationSeconds: 1, Latency: metrics.NewHistogram()}
		metrics.RecordLatency(e.Latency, time.Duration(i)*time.Millisecond)
		now := time.Now().UTC()
		w := metrics.Worker{Index: i, Of: 4}
		if err := metrics.Write(w.Path(dir, "http"), &metrics.File{Task: "http", StartTime: now, EndTime: now, Endpoints: []*metrics.Endpoint{e}, Worker: &w}); err != nil {
			t.Fatal(err)
		}
		if code, out := pod(dir, "-parts-only", "-keep-part", fmt.Sprintf("w%d", i)); code != 0 || !strings.Contains(out, fmt.Sprintf("kept part w%d in ConfigMap autox/autox-web-iter8-1-w%d: http-w%d.metrics.json\n", i, i, i)) {
			t.Fatalf("load pod %d keeping: exit %d:\n%s", i, code, out)
		}
	}
	code, out := pod(t.TempDir(), "-gather", "ready,workers")
	if code != 3 {
		t.Errorf("assess: exit %d, want 3:\n%s", code, out)
	}
	for _, want := range []string{
		"part w4: none (autox/autox-web-iter8-1-w4: no such part): its pod failed or never ran",
		"  Failure: http: worker 4 of 4 wrote no metrics (its pod failed or never ran)\n",
		"  http            | 75       |",
		"result stored in ConfigMap autox/autox-web-iter8-1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("assess's output lacks %q:\n%s", want, out)
		}
	}
}

// TestBadPartsFlags: the parts flags' bad input is one line naming the
// flag (exit 2), before any request.
func TestBadPartsFlags(t *testing.T) {
	exp := filepath.Join(t.TempDir(), "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http, assess]\nhttp: {url: http://127.0.0.1:1/, workers: 2}\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-keep-part", "w1", "-parts-only"}, "-pipelinerun: missing; the parts of a run are named after and owned by its PipelineRun (or a TaskRun run alone): pass -pipelinerun, -pipelinerun-uid and -namespace"},
		{[]string{"-gather", "ready,result", "-pipelinerun", "r", "-pipelinerun-uid", "u", "-namespace", "autox"}, `-gather: "result" is not a part; write ready, workers or w<i>, comma-separated`},
		{[]string{"-parts-only", "-start-lead", "11m", "-pipelinerun", "r", "-pipelinerun-uid", "u", "-namespace", "autox"}, "-start-lead: 11m0s is not between 0 and 10m0s"},
	} {
		var out, errs bytes.Buffer
		connect := func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) { return fake.NewClientset().CoreV1(), nil }
		err := runAssess(context.Background(), append([]string{"-f", exp}, tc.args...), &out, &errs, func(string) string { return "" }, connect)
		if code := cli.Exit("assess", err, &errs); code != 2 || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs.String(), tc.want)
		}
	}
}
