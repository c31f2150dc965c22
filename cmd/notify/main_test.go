// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
	"github.com/autox-tekton/autox/internal/store"
)

// webhook records the bodies it is sent and answers status.
func webhook(t *testing.T, status int) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...)
	}
}

// withResult is a cluster holding a breached result for run-1, stored by
// internal/store as assess stores it.
func withResult(t *testing.T) func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
	t.Helper()
	client := fake.NewClientset()
	v := 3.0
	r := &result.Result{Version: result.Version, Completed: true,
		SLOs: []slo.Verdict{{Metric: "http/error-count", Bound: slo.Upper, Limit: 0, Value: &v}}}
	target := store.Target{Namespace: "autox", Owner: store.Owner{Kind: store.KindPipelineRun, Name: "run-1", UID: "uid-1"}}
	if _, err := (store.Store{ConfigMaps: client.CoreV1()}).Save(context.Background(), target, r); err != nil {
		t.Fatal(err)
	}
	return func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) { return client.CoreV1(), nil }
}

func noCluster(t *testing.T) func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
	return func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error) {
		t.Error("notify connected to a cluster")
		return nil, errors.New("no cluster in this test")
	}
}

// TestEnvironment: the Task's environment, as the Secret and the params
// fill it, and the exit status and lines of each outcome.
func TestEnvironment(t *testing.T) {
	sent, bodies := webhook(t, http.StatusOK)
	run := []string{"AUTOX_PIPELINERUN=run-1", "AUTOX_PIPELINERUN_UID=uid-1", "AUTOX_NAMESPACE=autox", "AUTOX_GROUP=httpbin",
		"AUTOX_VERSION=2.0.0", "AUTOX_EXPERIMENT_STATUS=Failed", "AUTOX_EXPERIMENT_REASON=Failed", "AUTOX_TASKS_STATUS=Failed"}
	for _, tc := range []struct {
		name       string
		env        []string
		cluster    func(*testing.T) func(kube.Kubeconfig) (corev1client.ConfigMapsGetter, error)
		wantCode   int
		wantStdout string
		wantStderr string
		wantBodies []string
	}{{
		name:       "no Secret: off",
		env:        run,
		cluster:    noCluster,
		wantStderr: "notifications are off: no Secret autox-notify in namespace autox; create it with the webhook URL in key url to turn them on\n",
	}, {
		name:       "a Secret without url",
		env:        append([]string{"AUTOX_NOTIFY_SECRET_webhook=x", "AUTOX_NOTIFY_TEMPLATE="}, run...),
		cluster:    noCluster,
		wantCode:   2,
		wantStderr: "notify: Secret autox-notify: no key url (its keys: webhook); add the webhook URL: kubectl create secret generic autox-notify -n autox --from-literal=url=https://hooks.slack.com/services/...\n",
	}, {
		name:       "a template that does not parse",
		env:        append([]string{"AUTOX_NOTIFY_SECRET_url=x", "AUTOX_NOTIFY_SECRET_template=x", "AUTOX_NOTIFY_URL=" + sent.URL + "/hook", "AUTOX_NOTIFY_TEMPLATE={{.Text"}, run...),
		cluster:    noCluster,
		wantCode:   2,
		wantStderr: "notify: Secret autox-notify, key template: does not parse: template: template:1: unclosed action; fix the template (its data: the notify.Message fields, e.g. {{json .Text}})\n",
	}, {
		name:       "sent",
		env:        append([]string{"AUTOX_NOTIFY_SECRET_url=x", "AUTOX_NOTIFY_URL=" + sent.URL + "/hook", "AUTOX_DASHBOARD_URL=http://127.0.0.1:9097"}, run...),
		cluster:    withResult,
		wantStdout: "FAIL httpbin 2.0.0: 1 of 1 SLOs does not hold\n- http/error-count <= 0: observed 3.000\nPipelineRun run-1 in namespace autox, open it in the Tekton Dashboard: http://127.0.0.1:9097/#/namespaces/autox/pipelineruns/run-1\n",
		wantStderr: "notification sent to the webhook at " + strings.TrimPrefix(sent.URL, "http://") + " (200 OK): FAIL httpbin 2.0.0: 1 of 1 SLOs does not hold\n",
		wantBodies: []string{`{"text":"*FAIL* httpbin 2.0.0: 1 of 1 SLOs does not hold\n• http/error-count \u0026lt;= 0: observed 3.000\nPipelineRun ` + "`run-1` in namespace `autox`" + `, \u003chttp://127.0.0.1:9097/#/namespaces/autox/pipelineruns/run-1|open it in the Tekton Dashboard\u003e\n"}`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(bodies())
			var stdout, stderr bytes.Buffer
			err := runNotify(context.Background(), nil, &stdout, &stderr, tc.env, tc.cluster(t))
			code := cli.Exit("notify", err, &stderr)
			got := []string{stdout.String(), stderr.String()}
			if diff := cmp.Diff([]string{tc.wantStdout, tc.wantStderr}, got); code != tc.wantCode || diff != "" {
				t.Errorf("exit %d, want %d; stdout, stderr (-want +got):\n%s", code, tc.wantCode, diff)
			}
			if diff := cmp.Diff(tc.wantBodies, bodies()[before:], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the webhook received (-want +got):\n%s", diff)
			}
		})
	}
}
