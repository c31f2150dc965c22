package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
)

func runIt(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	err := runAssess(context.Background(), args, &out, &errs, func(k string) string { return env[k] })
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
