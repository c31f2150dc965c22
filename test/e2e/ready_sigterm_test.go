// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
)

// TestReadyStopsOnSIGTERM: Tekton sends SIGTERM when a run is cancelled
// or times out. The built ready command, waiting for a Deployment that
// never becomes Available, must end within 5s with exit 3, say what it
// last saw, and write no ready.metrics.json.
func TestReadyStopsOnSIGTERM(t *testing.T) {
	c, ns := cluster(t)
	step(t, "deploy a Deployment whose image cannot start")
	// imagePullPolicy Never: the image exists nowhere and no pull is tried
	// (autox.dev is off this machine; our images come from the harness's registry).
	apply(t, c, ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: never}
spec:
  selector: {matchLabels: {app: never}}
  template:
    metadata: {labels: {app: never}}
    spec:
      containers: [{name: app, image: "autox.dev/does-not-exist:dev", imagePullPolicy: Never}]
`)
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	waitFor(t, 30*time.Second, "the Deployment's Available condition", func() (bool, string) {
		d, err := c.Dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), "never", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(d.Object, "status", "conditions")
		for _, cond := range conds {
			if m, _ := cond.(map[string]any); m["type"] == "Available" {
				return true, ""
			}
		}
		return false, "no Available condition yet"
	})

	step(t, "run the ready command on it, then send SIGTERM after 2s")
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/ready")
	dir := t.TempDir()
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, "tasks: [ready]\nready: {deploy: never, namespace: "+ns+", timeout: 10m}\n")
	p := clitest.Start(t, bin, []string{"KUBECONFIG=" + os.Getenv("KUBECONFIG")}, "-f", exp, "-dir", dir)
	waiting := "ready: waiting for deployment " + ns + "/never to be Available (timeout 10m0s)\n"
	p.WaitFor(t, "the waiting line", 30*time.Second, func() bool { return p.Stderr() == waiting })
	time.Sleep(2 * time.Second)
	code, took := p.Terminate(t, 5*time.Second)

	want := waiting + "ready: deployment " + ns + "/never: stopped waiting (terminated signal received); last seen: Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability.\n"
	if code != 3 || took > 5*time.Second || p.Stderr() != want {
		t.Errorf("after SIGTERM: exit %d after %s, stderr:\n%s\nwant exit 3 within 5s, stderr:\n%s", code, took.Round(time.Millisecond), p.Stderr(), want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "ready")); !os.IsNotExist(err) {
		t.Errorf("a stopped ready step wrote ready.metrics.json (stat: %v)", err)
	}
}
