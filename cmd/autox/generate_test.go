// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// words splits a shell command as the seed prints it: lines joined at
// their trailing backslash, double quotes removed (no quoted spaces).
func words(s string) []string {
	return strings.Fields(strings.NewReplacer("\\\n", " ", `"`, "").Replace(s))
}

// TestGenerateSeed runs the seed's HTTP command with helm install replaced
// by autox generate: the YAML of internal/generate's golden file on stdout,
// the notes on stderr, exit 0.
func TestGenerateSeed(t *testing.T) {
	seed, err := os.ReadFile("../../internal/generate/testdata/seed-http.args")
	if err != nil {
		t.Fatal(err)
	}
	args := words(string(seed))
	if args[0] != "helm" || args[1] != "install" {
		t.Fatalf("the seed's command starts %q", args[:2])
	}
	args[0], args[1] = "", "generate"
	code, stdout, stderr := autox(t, args[1:]...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	want, err := os.ReadFile("../../internal/generate/testdata/seed-http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	wantStderr := `autox: ignoring autox autox --repo https://iter8-tools.github.io/hub/ --version 0.1.6: helm install's release name, chart, --repo and --version mean nothing here; autox generate prints Triggers for kubectl apply -f -
autox: groups.httpbin.specs.iter8.name: ignored; autox names the Trigger autox-httpbin-iter8 after the group and spec
autox: groups.httpbin.specs.iter8.version: ignored; "0.13.4" was the Iter8 chart's version, and autox runs its own Task (autox-experiment) instead
autox: groups.httpbin.specs.iter8.values.runner: ignored; autox runs the experiment once per version, as runner: job does
`
	if diff := cmp.Diff(wantStderr, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestGenerateExitStatuses(t *testing.T) {
	example := generateUsage[strings.Index(generateUsage, "  autox generate \\\n"):strings.Index(generateUsage, "    | kubectl")]
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // lines that must be there
		wantStderr string
	}{{
		name:       "the usage text's example",
		args:       words(example)[2:],
		wantCode:   0,
		wantStdout: []string{"  name: autox-httpbin-iter8", "  name: autox-watched", "  name: autox-ready"},
	}, {
		name:       "help",
		args:       []string{"--repo", "x", "-h"},
		wantCode:   0,
		wantStderr: generateUsage,
	}, {
		name:     "bad input: notes, then every problem, nothing on stdout",
		args:     []string{"autox", "autox", "--set", "groups.httpbin.trigger.namespace=default,groups.httpbin.trigger.version=v1,groups.httpbin.trigger.resource=deployments", "--set", "groups.httpbin.specs.iter8.name=iter8,groups.httpbin.specs.iter8.values.tasks={htp}"},
		wantCode: 2,
		wantStderr: `autox: ignoring autox autox: helm install's release name, chart, --repo and --version mean nothing here; autox generate prints Triggers for kubectl apply -f -
autox: groups.httpbin.specs.iter8.name: ignored; autox names the Trigger autox-httpbin-iter8 after the group and spec
autox: groups.httpbin.trigger.name: missing; set it, e.g. --set groups.httpbin.trigger.name=httpbin (the trigger object is name, namespace, group, version and resource)
autox: groups.httpbin.specs.iter8.values: tasks[0]: unknown task "htp"; known tasks are ready, http, grpc, assess
`,
	}, {
		name:       "unknown flag",
		args:       []string{"--dry-run"},
		wantCode:   2,
		wantStderr: "autox: unknown flag \"--dry-run\"; autox generate takes --set K=V and -f values.yaml, and ignores helm install's --repo and --version (run autox generate -h)\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := autox(t, append([]string{"generate"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.wantCode, stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w+"\n") {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if len(tc.wantStdout) == 0 && stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
