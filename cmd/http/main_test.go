// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

func TestWritesMetrics(t *testing.T) {
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http]\nhttp: {url: "+srv.URL+"/get, numRequests: 25, qps: unlimited}\n")
	var errs bytes.Buffer
	err := runHTTP(context.Background(), nil, &errs, env(map[string]string{"AUTOX_EXPERIMENT_FILE": exp, "AUTOX_DIR": dir}))
	if code := cli.Exit("http", err, &errs); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs.String())
	}
	f, err := metrics.Read(metrics.PathFor(dir, "http"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Endpoints[0].RequestCount; got != 25 || a.Count("/get") != 25 {
		t.Errorf("metrics count %d, server %d; want 25 and 25", got, a.Count("/get"))
	}
	if !strings.Contains(errs.String(), "http: done, 25 requests, 0 errors") {
		t.Errorf("stderr lacks the done line:\n%s", errs.String())
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http]\nhttp: {url: http://127.0.0.1:1/, payloadURL: http://127.0.0.1:1/p}\n")
	var errs bytes.Buffer
	err := runHTTP(context.Background(), []string{"-f", exp, "-dir", dir}, &errs, env(nil))
	code := cli.Exit("http", err, &errs)
	want := `http: http.payloadURL: cannot fetch "http://127.0.0.1:1/p": dial tcp 127.0.0.1:1: connect: connection refused; check the URL is reachable from where the step runs` + "\n"
	if code != 2 || errs.String() != want {
		t.Errorf("exit %d, stderr %q; want 2, %q", code, errs.String(), want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "http")); !os.IsNotExist(err) {
		t.Errorf("bad input left a metrics file (stat: %v)", err)
	}
}

// TestNotListed: in the Task every step runs; without http in the tasks
// list this one ends at once, with one line, sends nothing and writes no
// metrics file (assess then expects none).
func TestNotListed(t *testing.T) {
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	var errs bytes.Buffer
	err := runHTTP(context.Background(), nil, &errs, env(map[string]string{"AUTOX_EXPERIMENT": "tasks: [grpc]\ngrpc: {host: 127.0.0.1:1, call: a.B.C}\nhttp: {url: " + srv.URL + "/get}\n", "AUTOX_DIR": dir}))
	code := cli.Exit("http", err, &errs)
	if want := "http is not in the experiment's tasks [grpc]; nothing to do\n"; code != 0 || errs.String() != want {
		t.Errorf("exit %d, stderr %q; want 0, %q", code, errs.String(), want)
	}
	if _, err := os.Stat(metrics.PathFor(dir, "http")); !os.IsNotExist(err) || a.Count("/get") != 0 {
		t.Errorf("%d requests sent, metrics file stat: %v; want none and none", a.Count("/get"), err)
	}
}

// TestHeldAfterFailedReady: in the Task the ready step runs with
// onError: continue, and leaves ready.metrics.json saying whether it
// completed. After a failed (or unfinished) ready this step sends no
// request, records why in http.metrics.json and exits 0, so that assess
// runs and reports the failure; after a ready that completed, it loads.
func TestHeldAfterFailedReady(t *testing.T) {
	const notReady = `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null, "failed": "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"}`
	for _, tc := range []struct {
		name string
		// ready is ready.metrics.json; "" writes none.
		ready      string
		wantSent   int64
		wantFailed string
		wantStderr string
	}{{
		name:       "ready failed",
		ready:      notReady,
		wantFailed: "no load sent: the ready task failed",
		wantStderr: "::warning::http: no load sent: the ready task failed; assess reports it\n",
	}, {
		name:       "ready did not finish",
		wantFailed: "no load sent: the ready task did not finish (no DIR/ready.metrics.json)",
		wantStderr: "::warning::http: no load sent: the ready task did not finish (no DIR/ready.metrics.json); assess reports it\n",
	}, {
		name:     "ready completed",
		ready:    `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null}`,
		wantSent: 5,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a := app.New()
			srv := httptest.NewServer(a)
			defer srv.Close()
			dir := t.TempDir()
			if tc.ready != "" {
				clitest.WriteFile(t, metrics.PathFor(dir, "ready"), tc.ready)
			}
			var errs bytes.Buffer
			err := runHTTP(context.Background(), nil, &errs, env(map[string]string{
				"AUTOX_EXPERIMENT": "tasks: [ready, http, assess]\nready: {deploy: web}\nhttp: {url: " + srv.URL + "/get, numRequests: 5}\n", "AUTOX_DIR": dir,
			}))
			if code := cli.Exit("http", err, &errs); code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, errs.String())
			}
			if got := a.Count("/get"); got != tc.wantSent {
				t.Errorf("server got %d requests, want %d", got, tc.wantSent)
			}
			f, err := metrics.Read(metrics.PathFor(dir, "http"))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(tc.wantFailed, "DIR", dir); f.Failed != want {
				t.Errorf("http.metrics.json failed = %q, want %q", f.Failed, want)
			}
			if want := strings.ReplaceAll(tc.wantStderr, "DIR", dir); tc.wantStderr != "" && errs.String() != want {
				t.Errorf("stderr %q, want %q", errs.String(), want)
			}
		})
	}
}

// env is the step's environment: the variables of m, no others.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}
