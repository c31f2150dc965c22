// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
)

// TestExperimentFlags: where a step takes its experiment from, and the
// message when it cannot.
func TestExperimentFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "e.yaml")
	if err := os.WriteFile(file, []byte("tasks: [http]\nhttp: {url: http://127.0.0.1:1/file}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "tasks: [http]\nhttp: {url: http://127.0.0.1:1/text}\n"
	typo := "tasks: [http, assess]\nhttp:\n  numRequest: 200\n  url: http://127.0.0.1:1/\n"
	type got struct {
		URL string
		Err string
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want got
	}{
		{"a file by flag", []string{"-f", file}, nil, got{URL: "http://127.0.0.1:1/file"}},
		{"a file by environment", nil, map[string]string{EnvExperimentFile: file}, got{URL: "http://127.0.0.1:1/file"}},
		{"text by flag", []string{"-experiment", text}, nil, got{URL: "http://127.0.0.1:1/text"}},
		{"text by environment, as the Task passes it", nil, map[string]string{EnvExperiment: text, EnvExperimentSource: "params.experiment"}, got{URL: "http://127.0.0.1:1/text"}},
		{"a typo in text names the source and the field", nil, map[string]string{EnvExperiment: typo, EnvExperimentSource: "params.experiment"},
			got{Err: `params.experiment: http.numRequest: unknown key; did you mean "numRequests"?`}},
		{"text without a source is named by its flag", []string{"-experiment", typo}, nil,
			got{Err: `-experiment: http.numRequest: unknown key; did you mean "numRequests"?`}},
		{"blank text", nil, map[string]string{EnvExperiment: " \n"},
			got{Err: `-experiment: is blank; write the experiment's YAML, e.g. {tasks: [http, assess], http: {url: ...}}`}},
		{"both a file and text", []string{"-f", file}, map[string]string{EnvExperiment: text},
			got{Err: `the experiment is given twice, as -f "` + file + `" and as -experiment text; give one`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("step", flag.ContinueOnError)
			env := map[string]string{}
			x := AddExperimentFlags(fs, env)
			if err := Parse(fs, tc.args, env, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			var g got
			e, err := x.Load()
			if err != nil {
				g.Err = err.Error()
				if !badinput.Is(err) {
					t.Errorf("%v is not bad input", err)
				}
			} else {
				g.URL = e.HTTPEndpoints()[0].URL
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSkip: a step whose task is not listed ends at once and says so.
func TestSkip(t *testing.T) {
	e, err := experiment.Parse([]byte("tasks: [http, assess]\nhttp: {url: http://127.0.0.1:1/}\n"), "e")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	l := logging.New(&log, slog.LevelInfo)
	got := []bool{Skip(e, experiment.TaskReady, l), Skip(e, experiment.TaskHTTP, l), Skip(e, experiment.TaskGRPC, l)}
	if diff := cmp.Diff([]bool{true, false, true}, got); diff != "" {
		t.Errorf("skipped ready, http, grpc (-want +got):\n%s", diff)
	}
	want := "ready is not in the experiment's tasks [http, assess]; nothing to do\ngrpc is not in the experiment's tasks [http, assess]; nothing to do\n"
	if diff := cmp.Diff(want, log.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}
