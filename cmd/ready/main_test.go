// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/kube/apitest"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
)

// deployment is a Deployment in namespace ns whose Available condition
// has status available.
func deployment(name, ns, available string) map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": name}}},
		"status": map[string]any{"conditions": []any{map[string]any{
			"type": "Available", "status": available, "reason": map[string]string{"True": "MinimumReplicasAvailable", "False": "MinimumReplicasUnavailable"}[available],
		}}},
	}
}

// readyCmd runs the command as main does, in this process.
func readyCmd(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var errs bytes.Buffer
	err := runReady(context.Background(), args, &errs, logging.New(&errs, slog.LevelInfo), func(k string) string { return env[k] })
	return cli.Exit("ready", err, &errs), errs.String()
}

// TestKubeconfigList: $KUBECONFIG is a list of files, merged as kubectl
// merges them; -kubeconfig is one file.
func TestKubeconfigList(t *testing.T) {
	srv := apitest.Start(t, deployment("web", "shop", "True"))
	dir := t.TempDir()
	// The cluster and the context in one file, the user in another, as
	// when a cloud CLI writes its own file beside the user's.
	cluster, user := filepath.Join(dir, "cluster.yaml"), filepath.Join(dir, "user.yaml")
	clitest.WriteFile(t, cluster, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
contexts: [{name: test, context: {cluster: test, user: me, namespace: shop}}]
current-context: test
`, srv.URL))
	clitest.WriteFile(t, user, "apiVersion: v1\nkind: Config\nusers: [{name: me, user: {token: secret}}]\n")
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, "tasks: [ready]\nready: {deploy: web, timeout: 10s}\n")
	list := cluster + string(os.PathListSeparator) + user

	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     string
	}{{
		name: "KUBECONFIG lists two files",
		env:  map[string]string{"KUBECONFIG": list},
		want: "ready: waiting for deployment shop/web to be Available (timeout 10s)\nready: deployment shop/web is ready",
	}, {
		name: "a missing file in KUBECONFIG is skipped",
		env:  map[string]string{"KUBECONFIG": filepath.Join(dir, "absent.yaml") + string(os.PathListSeparator) + list},
		want: "ready: waiting for deployment shop/web to be Available (timeout 10s)\nready: deployment shop/web is ready",
	}, {
		name:     "-kubeconfig is one file, not a list",
		env:      map[string]string{"KUBECONFIG": list},
		args:     []string{"-kubeconfig", list},
		wantCode: 2,
		want:     "ready: -kubeconfig: cannot be used: stat " + list + ": no such file or directory; fix the kubeconfig or name another\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stderr := readyCmd(t, tc.env, append([]string{"-f", exp, "-dir", out}, tc.args...)...)
			if code != tc.wantCode || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr beginning:\n%s", code, stderr, tc.wantCode, tc.want)
			}
			// Written either way: a failure is recorded, for the load
			// steps after ready and for assess.
			f, err := metrics.Read(metrics.PathFor(out, "ready"))
			if err != nil || (f.Failed == "") != (tc.wantCode == 0) {
				t.Errorf("ready.metrics.json: %+v, %v; want it marked failed exactly when ready failed", f, err)
			}
		})
	}
}

// TestNamespace: the objects' namespace is the experiment's
// ready.namespace, else -namespace (AUTOX_NAMESPACE, the Task's namespace
// param: the triggering object's), else the kubeconfig's.
func TestNamespace(t *testing.T) {
	srv := apitest.Start(t, deployment("web", "shop", "True"))
	dir := t.TempDir()
	kc := srv.Kubeconfig(t, dir, "default")
	plain := filepath.Join(dir, "plain.yaml")
	clitest.WriteFile(t, plain, "tasks: [ready]\nready: {deploy: web, timeout: 1s}\n")
	named := filepath.Join(dir, "named.yaml")
	clitest.WriteFile(t, named, "tasks: [ready]\nready: {deploy: web, namespace: shop, timeout: 1s}\n")
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     string
	}{{
		name:     "the kubeconfig's namespace",
		args:     []string{"-f", plain},
		wantCode: 3,
		want:     "ready: waiting for deployment default/web to be Available (timeout 1s)\n",
	}, {
		name: "-namespace",
		args: []string{"-f", plain, "-namespace", "shop"},
		want: "ready: waiting for deployment shop/web to be Available (timeout 1s)\nready: deployment shop/web is ready",
	}, {
		name: "AUTOX_NAMESPACE",
		env:  map[string]string{"AUTOX_NAMESPACE": "shop"},
		args: []string{"-f", plain},
		want: "ready: waiting for deployment shop/web to be Available (timeout 1s)\nready: deployment shop/web is ready",
	}, {
		name: "ready.namespace wins over -namespace",
		args: []string{"-f", named, "-namespace", "default"},
		want: "ready: waiting for deployment shop/web to be Available (timeout 1s)\nready: deployment shop/web is ready",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stderr := readyCmd(t, tc.env, append([]string{"-dir", out, "-kubeconfig", kc}, tc.args...)...)
			if code != tc.wantCode || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr beginning:\n%s", code, stderr, tc.wantCode, tc.want)
			}
		})
	}
}

// TestNotReadyInTime runs the built command, so that client-go logs as
// in a step: the timeout says what was not ready and nothing else, for
// client-go's own line about the watch that the timeout cut short is
// noise, and is dropped. It records the failure in ready.metrics.json.
func TestNotReadyInTime(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/ready")
	srv := apitest.Start(t, deployment("web", "shop", "False"))
	dir := t.TempDir()
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, "tasks: [ready]\nready: {deploy: web, timeout: 1s}\n")
	p := clitest.Start(t, bin, nil, "-f", exp, "-dir", dir, "-kubeconfig", srv.Kubeconfig(t, dir, "shop"))
	code := p.Wait(t, 10*time.Second)
	want := "ready: waiting for deployment shop/web to be Available (timeout 1s)\n" +
		"ready: not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s\n"
	if code != 3 || p.Stderr() != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 3, stderr:\n%s", code, p.Stderr(), want)
	}
	// The failure is recorded for the steps after it: the load steps
	// send nothing, and assess reports it (the Task runs ready with
	// onError: continue).
	f, err := metrics.Read(metrics.PathFor(dir, "ready"))
	if want := "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"; err != nil || f.Failed != want {
		t.Errorf("ready.metrics.json: %+v, %v; want it marked failed: %q", f, err, want)
	}
}

// TestSIGTERM stops the built ready command while it waits, as Tekton
// does on cancel and timeout: it must end within 5s, exit 3, say what it
// was waiting for, and write no ready.metrics.json.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/ready")
	srv := apitest.Start(t, deployment("web", "shop", "False"))
	dir := t.TempDir()
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, "tasks: [ready]\nready: {deploy: web, timeout: 10m}\n")
	p := clitest.Start(t, bin, []string{"KUBECONFIG=" + srv.Kubeconfig(t, dir, "shop")}, "-f", exp, "-dir", dir)
	p.WaitFor(t, "a watch of the Deployment", 10*time.Second, func() bool { return srv.Watches() > 0 })
	// The watch is open; client-go looks at what it listed when it sees
	// its cache synced, which it checks every 100ms (WaitForCacheSync),
	// and nothing outside the process shows that moment.
	time.Sleep(500 * time.Millisecond)

	code, took := p.Terminate(t, 5*time.Second)
	want := "ready: waiting for deployment shop/web to be Available (timeout 10m0s)\n" +
		"ready: deployment shop/web: stopped waiting (terminated signal received); last seen: Available=False (MinimumReplicasUnavailable)\n"
	if code != 3 || took > 5*time.Second || p.Stderr() != want {
		t.Errorf("after SIGTERM: exit %d after %s, stderr:\n%s\nwant exit 3 within 5s, stderr:\n%s", code, took.Round(time.Millisecond), p.Stderr(), want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "ready")); !os.IsNotExist(err) {
		t.Errorf("a stopped ready step wrote ready.metrics.json (stat: %v)", err)
	}
}

// TestFirstStep: as the Task's first step, ready validates the whole
// experiment, whether its tasks name ready or not, and ends at once, with
// one line, when they do not. No cluster is asked: there is none here.
func TestFirstStep(t *testing.T) {
	for _, tc := range []struct {
		name       string
		experiment string
		wantCode   int
		wantStderr string
	}{
		{"a typo in the http section, ready not listed", "tasks: [http, assess]\nhttp:\n  numRequest: 200\n  url: http://httpbin.default/get\n", 2,
			"ready: params.experiment: http.numRequest: unknown key; did you mean \"numRequests\"?\n"},
		{"a typo in the grpc section, which the tasks do not list", "tasks: [ready, http]\nready: {deploy: web}\nhttp: {url: http://httpbin.default/get}\ngrpc: {hots: x:1}\n", 2,
			"ready: params.experiment: grpc.hots: unknown key; did you mean \"host\"?\n"},
		{"ready not listed", "tasks: [http, assess]\nhttp: {url: http://httpbin.default/get}\n", 0,
			"ready is not in the experiment's tasks [http, assess]; nothing to do\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := readyCmd(t, map[string]string{"AUTOX_EXPERIMENT": tc.experiment, "AUTOX_EXPERIMENT_SOURCE": "params.experiment", "AUTOX_DIR": t.TempDir()})
			if code != tc.wantCode || stderr != tc.wantStderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, tc.wantCode, tc.wantStderr)
			}
		})
	}
}
