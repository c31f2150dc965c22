// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

func TestGRPCStep(t *testing.T) {
	s, host, err := app.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	step := func(yaml string) (int, string) {
		clitest.WriteFile(t, exp, yaml)
		var errs bytes.Buffer
		err := runGRPC(context.Background(), []string{"-f", exp, "-dir", dir}, &errs, env(nil))
		return cli.Exit("grpc", err, &errs), errs.String()
	}

	code, stderr := step("tasks: [grpc]\ngrpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, total: 30}\n")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	f, err := metrics.Read(metrics.PathFor(dir, "grpc"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Endpoints[0].RequestCount; got != 30 || s.Count("GetFeature") != 30 {
		t.Errorf("metrics count %d calls, server %d; want 30 and 30", got, s.Count("GetFeature"))
	}

	os.Remove(metrics.PathFor(dir, "grpc"))
	code, stderr = step("tasks: [grpc]\ngrpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, data: {lattitude: 1}}\n")
	want := "grpc: grpc.data: does not match message routeguide.Point: unknown field \"lattitude\"; use the field names of the proto\n"
	if code != 2 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, stderr, want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "grpc")); !os.IsNotExist(err) {
		t.Errorf("bad input left a metrics file (stat: %v)", err)
	}
}

// TestNotListed: without grpc in the tasks list the step ends at once,
// with one line, and writes no metrics file.
func TestNotListed(t *testing.T) {
	dir := t.TempDir()
	var errs bytes.Buffer
	err := runGRPC(context.Background(), nil, &errs, env(map[string]string{"AUTOX_EXPERIMENT": "tasks: [http]\nhttp: {url: http://127.0.0.1:1/}\n", "AUTOX_DIR": dir}))
	code := cli.Exit("grpc", err, &errs)
	if want := "grpc is not in the experiment's tasks [http]; nothing to do\n"; code != 0 || errs.String() != want {
		t.Errorf("exit %d, stderr %q; want 0, %q", code, errs.String(), want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "grpc")); !os.IsNotExist(err) {
		t.Errorf("metrics file stat: %v; want none", err)
	}
}

// TestHeldAfterFailedReady: after a failed ready (recorded in
// ready.metrics.json by the ready step, which the Task runs with
// onError: continue) this step makes no call, records why in
// grpc.metrics.json and exits 0, so that assess runs and reports it.
func TestHeldAfterFailedReady(t *testing.T) {
	s, host, err := app.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	dir := t.TempDir()
	clitest.WriteFile(t, metrics.PathFor(dir, "ready"), `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null, "failed": "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"}`)
	var errs bytes.Buffer
	err = runGRPC(context.Background(), nil, &errs, env(map[string]string{
		"AUTOX_EXPERIMENT": "tasks: [ready, grpc, assess]\nready: {deploy: web}\ngrpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, total: 30}\n", "AUTOX_DIR": dir,
	}))
	code := cli.Exit("grpc", err, &errs)
	if want := "::warning::grpc: no load sent: the ready task failed; assess reports it\n"; code != 0 || errs.String() != want {
		t.Errorf("exit %d, stderr %q; want 0, %q", code, errs.String(), want)
	}
	if got := s.Count("GetFeature"); got != 0 {
		t.Errorf("server got %d calls, want none", got)
	}
	f, err := metrics.Read(metrics.PathFor(dir, "grpc"))
	if want := "no load sent: the ready task failed"; err != nil || f.Failed != want || len(f.Endpoints) != 0 {
		t.Errorf("grpc.metrics.json: %+v, %v; want no endpoints, failed %q", f, err, want)
	}
}

// env is the step's environment: the variables of m, no others.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
