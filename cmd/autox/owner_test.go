// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/store"
)

// forged is a finder whose result ConfigMap of p holds r but was made by
// hand: the name and labels are the run's, the owner is not.
func forged(t *testing.T, p pipelinerunstest.PR, r *result.Result) pipelineruns.Finder {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name(), Namespace: pipelinerunstest.Namespace,
			Labels: map[string]string{store.LabelPartOf: store.PartOf, store.LabelAutoxVersion: store.AutoxVersion,
				store.LabelGroup: p.Group, store.LabelSpec: p.Spec, store.LabelVersion: p.Version, store.LabelName: "httpbin"}},
		Data: map[string]string{store.DataKey: string(data)},
	})
	return pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(p.PipelineRun(t), p.TaskRun(t, "", 0)), ConfigMaps: client.CoreV1(), Namespace: pipelinerunstest.Namespace}
}

// TestAssertTrustsOnlyItsRun: assert -c slos holds only for a result the
// run owns, of a run that succeeded; otherwise exit 1, and the line says
// what is wrong.
func TestAssertTrustsOnlyItsRun(t *testing.T) {
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Succeeded)
	v2Failed := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Failed)
	for _, tc := range []struct {
		name       string
		finder     func(t *testing.T) pipelineruns.Finder
		wantStdout string
	}{{
		name:   "a ConfigMap made by hand, saying every SLO holds",
		finder: func(t *testing.T) pipelineruns.Finder { return forged(t, v2, passing(t)) },
		wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
cannot tell whether SLOs are satisfied: result ConfigMap autox/autox-httpbin-iter8-5f6a7b8c9d is not owned by PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d (it has no owner, run uid uid-autox-httpbin-iter8-5f6a7b8c9d); it was not written by this run: delete it
conditions not satisfied: slos
`,
	}, {
		name: "the run's own result says the SLOs hold, but the run failed",
		finder: func(t *testing.T) pipelineruns.Finder {
			return cluster{objs: []runtime.Object{v2Failed.PipelineRun(t)}, results: map[pipelinerunstest.PR]*result.Result{v2Failed: passing(t)}}.finder(t)
		},
		wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
cannot tell whether SLOs are satisfied: PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d has not succeeded (failed, Failed: Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0); its result counts only once the run succeeds
conditions not satisfied: slos
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := assertRun(context.Background(), assertConfig{Group: "autox-httpbin-iter8", Conditions: []string{"slos"}}, tc.finder(t), &stdout, logging.New(&stderr, slog.LevelInfo))
			if code := cli.Exit("autox", err, &stderr); code != 1 {
				t.Errorf("exit %d, want 1 (error %v)", code, err)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReportRefusesAForgedResult: report prints no report of a result its
// run does not own; it is a run without a stored result (exit 2).
func TestReportRefusesAForgedResult(t *testing.T) {
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Succeeded)
	var stdout, stderr bytes.Buffer
	err := reportRun(context.Background(), reportConfig{Group: "autox-httpbin-iter8", Output: "text"}, forged(t, v2, passing(t)), &stdout, logging.New(&bytes.Buffer{}, slog.LevelInfo))
	if code := cli.Exit("autox", err, &stderr); code != 2 {
		t.Errorf("exit %d, want 2 (error %v)", code, err)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	want := "autox: -g: no stored result of autox-httpbin-iter8-5f6a7b8c9d (version 2.0.0): result ConfigMap autox/autox-httpbin-iter8-5f6a7b8c9d is not owned by PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d (it has no owner, run uid uid-autox-httpbin-iter8-5f6a7b8c9d); it was not written by this run: delete it\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}
