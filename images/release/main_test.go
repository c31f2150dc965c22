// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/autox-tekton/autox/internal/cli"
)

const input = `apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: say
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  image: example.com/say@sha256:0000000000000000000000000000000000000000000000000000000000000000
  command: [/ko-app/say]
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  steps:
    - name: say
      ref: {name: say}
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: autox
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  tasks:
    - name: hello
      taskRef: {kind: Task, name: hello}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata:
  name: autox
  namespace: autox-system
spec:
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata:
        name: $(tt.params.run-name)
      spec:
        pipelineRef: {name: autox}
`

// TestCommandLine: the command line of make release, its flags' errors and
// their exit statuses (0 done, 2 bad input, 3 a push failed), each error
// one line that begins "release:".
func TestCommandLine(t *testing.T) {
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	down := httptest.NewServer(http.NotFoundHandler())
	closed := strings.TrimPrefix(down.URL, "http://")
	down.Close()
	digest := `@sha256:[0-9a-f]{64}\n`
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // a regexp
		wantStderr string // a regexp
	}{
		{"make release", []string{"-in", "IN", "-out", "OUT", "-repo", host + "/autox", "-insecure", "-pipeline-from", "bundle"}, 0,
			`^stepaction/say=` + regexp.QuoteMeta(host) + `/autox/bundles/say` + digest +
				`task/hello=` + regexp.QuoteMeta(host) + `/autox/bundles/hello` + digest +
				`pipeline/autox=` + regexp.QuoteMeta(host) + `/autox/bundles/autox` + digest + `$`, `^$`},
		{"the refs name -pull-repo", []string{"-in", "IN", "-out", "OUT", "-repo", host + "/autox", "-pull-repo", "10.88.0.1:10290/autox"}, 0,
			`^stepaction/say=10\.88\.0\.1:10290/autox/bundles/say` + digest +
				`task/hello=10\.88\.0\.1:10290/autox/bundles/hello` + digest +
				`pipeline/autox=10\.88\.0\.1:10290/autox/bundles/autox` + digest + `$`, `^$`},
		{"no flags", nil, 2, `^$`,
			`^release: -in: missing; give the file ko resolve wrote, e.g. -in resolved.yaml\n` +
				`release: -out: missing; give the release file to write, e.g. -out bin/release.yaml\n` +
				`release: -repo: no registry to push to: set the registry and path, e.g. 127.0.0.1:10290/autox or ghcr.io/you/autox\n$`},
		{"an unknown flag", []string{"-tag", "v1"}, 2, `^$`, `^release: flag provided but not defined: -tag; run with -h for the flags\n$`},
		{"an input that is not there", []string{"-in", "/nonexistent/resolved.yaml", "-out", "OUT", "-repo", host + "/autox"}, 2, `^$`,
			`^release: -in: open /nonexistent/resolved.yaml: no such file or directory; give the file ko resolve wrote\n$`},
		{"a registry that does not answer", []string{"-in", "IN", "-out", "OUT", "-repo", closed + "/autox"}, 3, `^$`,
			`^release: bundle stepaction/say: pushing ` + regexp.QuoteMeta(closed) + `/autox/bundles/say:v0\.1: .*connection refused; check that the registry answers and takes pushes \(make cluster-up for the test cluster's, or set the repository to one you can push to\)\n$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "resolved.yaml")
			if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				args[i] = strings.NewReplacer("IN", in, "OUT", filepath.Join(dir, "bin", "release.yaml")).Replace(a)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr, slog.New(slog.NewTextHandler(io.Discard, nil)))
			code := cli.Exit("release", err, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (%v)", code, tc.wantCode, err)
			}
			if !regexp.MustCompile(tc.wantStdout).MatchString(stdout.String()) {
				t.Errorf("stdout %q does not match %q", stdout.String(), tc.wantStdout)
			}
			if !regexp.MustCompile(tc.wantStderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q does not match %q", stderr.String(), tc.wantStderr)
			}
			if tc.wantCode == 0 {
				list, err := os.ReadFile(filepath.Join(dir, "bin", "bundles.txt"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(stdout.String(), string(list)); diff != "" {
					t.Errorf("bundles.txt differs from stdout (-stdout +bundles.txt):\n%s", diff)
				}
			} else if _, err := os.Stat(filepath.Join(dir, "bin")); !os.IsNotExist(err) {
				t.Errorf("something was written: %v", err)
			}
		})
	}
}
