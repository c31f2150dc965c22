// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/kube/apitest"
	"github.com/autox-tekton/autox/internal/logging"
)

// run runs the command as main does, in this process.
func run(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var errs bytes.Buffer
	err := runWatcher(context.Background(), args, &errs, logging.New(&errs, slog.LevelInfo), func(k string) string { return env[k] })
	code := cli.Exit("watcher", err, &errs)
	// The metrics server starts alongside the watcher: its line may come
	// before the watcher fails, or not.
	return code, servingLine.ReplaceAllString(errs.String(), "")
}

var servingLine = regexp.MustCompile(`(?m)^serving /metrics, /healthz and /readyz addr=\S+\n`)

func TestBadInput(t *testing.T) {
	// A cluster without Tekton Triggers: the watcher has nothing to read.
	srv := apitest.Start(t)
	kubeconfig := srv.Kubeconfig(t, t.TempDir(), "autox")
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     string
	}{{
		name:     "not a URL",
		args:     []string{"-eventlistener-url", "el-autox:8080"},
		wantCode: 2,
		want:     `watcher: -eventlistener-url: "el-autox:8080" is not an http(s) URL; write http://host[:port][/path], e.g. http://el-autox.autox.svc.cluster.local:8080` + "\n",
	}, {
		name:     "a negative resync, from the environment",
		env:      map[string]string{"AUTOX_RESYNC": "-1m"},
		wantCode: 2,
		want:     `watcher: AUTOX_RESYNC (-resync): "-1m" is not 0 or a duration within 1s..24h; write one such as 5m, or 0 to check only on changes and re-lists` + "\n",
	}, {
		name:     "a kubeconfig that is not there",
		args:     []string{"-kubeconfig", "/absent/kubeconfig"},
		wantCode: 2,
		want:     "watcher: -kubeconfig: cannot be used: stat /absent/kubeconfig: no such file or directory; fix the kubeconfig or name another\n",
	}, {
		name:     "Tekton Triggers not installed",
		args:     []string{"-kubeconfig", kubeconfig, "-metrics-addr", "127.0.0.1:0"},
		wantCode: 3,
		want: "posting to the EventListener at http://el-autox.autox.svc.cluster.local:8080\n" +
			"watcher: reading the Triggers: the API server does not serve triggers.triggers.tekton.dev/v1beta1; check the group, version and resource against kubectl api-resources; Tekton Triggers must be installed, and triggers/watcher.yaml applied in namespace autox\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := run(t, tc.env, tc.args...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d", code, tc.wantCode)
			}
		})
	}
}
