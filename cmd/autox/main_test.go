// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/kube/apitest"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
	routeguide "github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// autox runs the command line as main does and returns its exit status
// and output.
func autox(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	err := dispatch(context.Background(), args, &out, &errs, logging.New(&errs, slog.LevelInfo), func(string) string { return "" })
	code = cli.Exit("autox", err, &errs)
	return code, out.String(), errs.String()
}

func writeExperiment(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seed is the seed's HTTP experiment against url, at a rate fit for tests.
func seed(url string, getLatencyLimit string) string {
	return `
tasks: [http, assess]
http:
  numRequests: 200
  qps: 400
  endpoints:
    get: {url: ` + url + `/get}
    getAnything: {url: ` + url + `/anything}
    post: {url: ` + url + `/post, payloadStr: hello}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
      http-get/latency-mean: ` + getLatencyLimit + `
      http-getAnything/error-count: 0
      http-getAnything/latency-mean: 75
      http-post/error-count: 0
      http-post/latency-mean: 100
`
}

func TestRunSeedExperiment(t *testing.T) {
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	code, stdout, stderr := autox(t, "run", "-f", writeExperiment(t, dir, seed(srv.URL, "50")), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"  Experiment completed: true\n",
		"  http-get/latency-mean (msec) <= 50         | true\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	// The test's qps (400/s) makes it a fixed-rate load: its service times
	// and late sends are reported beside the latencies.
	for _, want := range []string{
		`(?m)^  http-post/request-count +\| 200\.00$`,
		`(?m)^  http-post/service-time-p99 \(msec\) +\| [0-9.]+$`,
		`(?m)^  http-post/late-count +\| [0-9]+\.00$`,
		`(?m)^  Fixed rate \(http-post\): 400 requests/s asked; [0-9]+ sent more than 10ms late$`,
		`(?m)^  At a fixed rate, latency counts from each intended send time, service-time from each send\.$`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("report lacks a line matching %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "::error::") {
		t.Errorf("passing run printed an ::error:: line:\n%s", stdout)
	}
	names := dirNames(t, out)
	if diff := cmp.Diff([]string{"http.metrics.json", "report.html", "report.txt", "result.json"}, names); diff != "" {
		t.Errorf("--out files (-want +got):\n%s", diff)
	}
	r, err := result.Read(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range []string{"get", "getAnything", "post"} {
		got[p] = r.Metrics["http-"+p+"/request-count"]
	}
	if diff := cmp.Diff(map[string]float64{"get": 200, "getAnything": 200, "post": 200}, got); diff != "" {
		t.Errorf("request counts (-want +got):\n%s", diff)
	}
	server := map[string]float64{"get": float64(a.Count("/get")), "getAnything": float64(a.Count("/anything")), "post": float64(a.Count("/post"))}
	if diff := cmp.Diff(got, server); diff != "" {
		t.Errorf("server counts differ from metrics (-metrics +server):\n%s", diff)
	}
	if !r.Completed || r.Failure || !r.SLOsSatisfied || len(r.SLOs) != 6 {
		t.Errorf("result completed=%t failure=%t slosSatisfied=%t slos=%d, want true false true 6", r.Completed, r.Failure, r.SLOsSatisfied, len(r.SLOs))
	}
}

func TestRunExitStatuses(t *testing.T) {
	srv := httptest.NewServer(app.New())
	defer srv.Close()
	for _, tc := range []struct {
		name       string
		yaml       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{{
		name:       "violated SLO exits 1 with an ::error:: line",
		yaml:       seed(srv.URL, "0.000001"),
		wantCode:   1,
		wantStdout: []string{"  http-get/latency-mean (msec) <= 0.000001   | false\n", "::error::SLO not satisfied: http-get/latency-mean (msec) <= 0.000001: observed "},
	}, {
		name:       "violations allowed exit 0 with a ::warning:: line",
		yaml:       seed(srv.URL, "0.000001"),
		args:       []string{"-fail-on-violation=false"},
		wantCode:   0,
		wantStdout: []string{"::warning::SLO not satisfied: http-get/latency-mean (msec) <= 0.000001"},
	}, {
		name:       "json output",
		yaml:       seed(srv.URL, "50"),
		args:       []string{"-o", "json"},
		wantCode:   0,
		wantStdout: []string{`"completed": true`, `"failure": false`, `"http-get/latency-p99.9":`, `"metric": "http-get/error-count"`},
	}, {
		name:       "html output",
		yaml:       seed(srv.URL, "50"),
		args:       []string{"-o", "html"},
		wantCode:   0,
		wantStdout: []string{"<!DOCTYPE html>", "All SLOs satisfied", `aria-label="latency histogram of http-post"`},
	}, {
		name: "unreachable endpoint: errors in the report, not bad input",
		yaml: `
tasks: [http, assess]
http: {url: "http://127.0.0.1:1/get", numRequests: 10, qps: unlimited}
assess: {SLOs: {upper: {http/error-count: 0}}}
`,
		wantCode:   1,
		wantStdout: []string{"  http: 10 of 10 requests were errors\n", "connection refused", "::error::SLO not satisfied: http/error-count <= 0: observed 10.000"},
	}, {
		name:       "bad output format",
		yaml:       seed(srv.URL, "50"),
		args:       []string{"-o", "pdf"},
		wantCode:   2,
		wantStderr: []string{"autox: -o: \"pdf\" is not an output format; write text, json or html\n"},
	}, {
		name:       "bad experiment",
		yaml:       "tasks: [http]\nhttp: {url: http://a/, numRequest: 10, qps: 0}\n",
		wantCode:   2,
		wantStderr: []string{`experiment.yaml: http.numRequest: unknown key; did you mean "numRequests"?` + "\n", `experiment.yaml: http.qps: "0" is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited` + "\n"},
	}, {
		name:       "missing payload file",
		yaml:       "tasks: [http]\nhttp: {url: http://a/, payloadFile: absent.json}\n",
		wantCode:   2,
		wantStderr: []string{"autox: http.payloadFile: cannot read ", "absent.json\": no such file or directory; give a path relative to the experiment file, or an absolute one\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"run", "-f", writeExperiment(t, dir, tc.yaml)}, tc.args...)
			code, stdout, stderr := autox(t, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tc.wantCode == 2 && stdout != "" {
				t.Errorf("bad input printed a report:\n%s", stdout)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr shows a panic:\n%s", stderr)
			}
			if tc.name == "json output" {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("-o json is not JSON: %v", err)
				}
			}
		})
	}
}

// TestBadInputLosesNothing: a bad experiment leaves an earlier run's
// folder exactly as it was.
func TestBadInputLosesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{"http.metrics.json": "earlier metrics", "result.json": "earlier result", "report.html": "earlier page"}
	for name, body := range before {
		clitest.WriteFile(t, filepath.Join(out, name), body)
	}
	code, _, stderr := autox(t, "run", "-f", writeExperiment(t, dir, "tasks: [http, assess]\nhttp: {url: htp://x}\n"), "--out", out)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	after := map[string]string{}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		after[e.Name()] = string(b)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("--out folder changed by a bad run (-before +after):\n%s", diff)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{nil, 2, "autox: no command given; use autox run -f experiment.yaml\n"},
		{[]string{"launch"}, 2, "autox: unknown command \"launch\"; the commands are: run, assert, report, generate\n"},
		{[]string{"run", "-x"}, 2, "autox: flag provided but not defined: -x; run with -h for the flags\n"},
		{[]string{"run", "-f", "/nonexistent/e.yaml"}, 2, "autox: cannot read experiment file \"/nonexistent/e.yaml\": no such file or directory; pass an existing file with -f\n"},
	} {
		code, _, stderr := autox(t, tc.args...)
		if code != tc.wantCode || !strings.HasSuffix(stderr, tc.want) {
			t.Errorf("autox %v = exit %d, stderr %q; want exit %d ending %q", tc.args, code, stderr, tc.wantCode, tc.want)
		}
	}
}

// TestRunSeedGRPCExperiment runs the seed's gRPC experiment file, as
// `make demo` does, against the sample routeguide on a loopback port.
func TestRunSeedGRPCExperiment(t *testing.T) {
	s, host, err := routeguide.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	seedFile, err := os.ReadFile("../../test/experiments/routeguide.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	abs, err := filepath.Abs("../../test/experiments")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.ReplaceAll(string(seedFile), "127.0.0.1:50051", host)
	yaml = strings.ReplaceAll(yaml, "../", filepath.Dir(abs)+"/")
	code, stdout, stderr := autox(t, "run", "-f", writeExperiment(t, dir, yaml), "--out", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"  grpc-getFeature/latency/mean (msec) <= 50    | true\n",
		"  grpc-listFeatures/latency/mean (msec) <= 100 | true\n",
		"  grpc-getFeature/request-count           | 200.00\n",
		"  grpc-listFeatures/request-count         | 200.00\n",
		"  Note (grpc-listFeatures): server streaming: one call per stream, latency of the whole stream\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if s.Count("GetFeature") != 200 || s.Count("ListFeatures") != 200 {
		t.Errorf("server saw %d GetFeature and %d ListFeatures calls, want 200 each", s.Count("GetFeature"), s.Count("ListFeatures"))
	}
	page, err := os.ReadFile(filepath.Join(dir, "out", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"grpc-getFeature", "grpc-listFeatures"} {
		if !strings.Contains(string(page), `aria-label="latency histogram of `+p+`"`) {
			t.Errorf("report.html has no histogram of %s", p)
		}
	}
}

// TestRunAfterReady: `autox run` follows the Task's rule for a failed
// ready. The ready task's check fails (a Deployment that is not
// Available, on a loopback API server): the load tasks send nothing (the
// loopback servers count no request), assess still runs, the result
// records the ready failure and the held loads with a failing verdict,
// the report is printed, and the run exits 3. Once the Deployment is
// Available, the same experiment sends its load and passes.
func TestRunAfterReady(t *testing.T) {
	const notReady = "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"
	const held = "no load sent: the ready task failed"
	for _, tc := range []struct {
		name       string
		available  string
		wantCode   int
		wantSent   int64
		wantTasks  []result.Task
		wantStdout []string
		wantStderr []string
	}{{
		name:      "ready fails",
		available: "False",
		wantCode:  3,
		wantTasks: []result.Task{{Name: "ready", Reason: notReady}, {Name: "http", Reason: held}, {Name: "grpc", Reason: held}, {Name: "assess", Completed: true}},
		wantStdout: []string{
			"  Experiment completed: false\n",
			"  Failure: ready: " + notReady + "\n",
			"  Failure: http: " + held + "\n",
			"  Failure: grpc: " + held + "\n",
			"::error::experiment failed: ready: " + notReady + "\n",
		},
		wantStderr: []string{
			"::error::ready task failed: " + notReady + "\n",
			"::warning::http: " + held + "; assess reports it\n",
			"::warning::grpc: " + held + "; assess reports it\n",
		},
	}, {
		name:       "ready holds",
		available:  "True",
		wantCode:   0,
		wantSent:   20,
		wantTasks:  []result.Task{{Name: "ready", Completed: true}, {Name: "http", Completed: true}, {Name: "grpc", Completed: true}, {Name: "assess", Completed: true}},
		wantStdout: []string{"  Experiment completed: true\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			api := apitest.Start(t, map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "web", "namespace": "shop"},
				"spec":     map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}},
				"status": map[string]any{"conditions": []any{map[string]any{
					"type": "Available", "status": tc.available, "reason": map[string]string{"True": "MinimumReplicasAvailable", "False": "MinimumReplicasUnavailable"}[tc.available],
				}}},
			})
			a := app.New()
			srv := httptest.NewServer(a)
			defer srv.Close()
			rg, host, err := routeguide.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer rg.GRPC.Stop()
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			exp := writeExperiment(t, dir, `
tasks: [ready, http, grpc, assess]
ready: {deploy: web, timeout: 1s}
http: {url: `+srv.URL+`/get, numRequests: 20, qps: unlimited}
grpc: {host: `+host+`, call: routeguide.RouteGuide.GetFeature, total: 20, insecure: true}
assess: {SLOs: {upper: {http/error-count: 0, grpc/error-count: 0}}}
`)
			code, stdout, stderr := autox(t, "run", "-f", exp, "--out", out, "--kubeconfig", api.Kubeconfig(t, dir, "shop"))
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout, stderr)
			}
			if a.Count("/get") != tc.wantSent || rg.Count("GetFeature") != tc.wantSent {
				t.Errorf("servers got %d requests and %d calls, want %d each", a.Count("/get"), rg.Count("GetFeature"), tc.wantSent)
			}
			r, err := result.Read(filepath.Join(out, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantTasks, r.Tasks); diff != "" {
				t.Errorf("result tasks (-want +got):\n%s", diff)
			}
			if passed := tc.wantCode == 0; r.Completed != passed || r.Failure == passed || r.SLOsSatisfied != passed {
				t.Errorf("result completed=%t failure=%t slosSatisfied=%t; want %t %t %t", r.Completed, r.Failure, r.SLOsSatisfied, passed, !passed, passed)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// dirNames are the names of the files in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
