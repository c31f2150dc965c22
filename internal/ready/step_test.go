// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package ready

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/kube/apitest"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
)

// TestStepRecords: what the step leaves in ready.metrics.json for the
// load steps and assess: completed, failed with the reason (the error is
// returned too), or nothing when it was stopped.
func TestStepRecords(t *testing.T) {
	const notReady = "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"
	type got struct {
		Err     string
		Written bool
		Failed  string
	}
	for _, tc := range []struct {
		name       string
		available  string
		kubeconfig string // "" uses the loopback API server's
		stopped    bool
		want       got
	}{
		{name: "ready", available: "True", want: got{Written: true}},
		{name: "not ready in time", available: "False", want: got{Err: notReady, Written: true, Failed: notReady}},
		{name: "no cluster", available: "True", kubeconfig: "absent.yaml",
			want: got{Err: "-kubeconfig: cannot be used: stat DIR/absent.yaml: no such file or directory; fix the kubeconfig or name another", Written: true,
				Failed: "-kubeconfig: cannot be used: stat DIR/absent.yaml: no such file or directory; fix the kubeconfig or name another"}},
		{name: "stopped", available: "False", stopped: true, want: got{Err: "stopped (context canceled) while checking that the objects can be read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apitest.Start(t, map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "web", "namespace": "shop"},
				"spec":     map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}}},
				"status": map[string]any{"conditions": []any{map[string]any{
					"type": "Available", "status": tc.available, "reason": map[string]string{"True": "MinimumReplicasAvailable", "False": "MinimumReplicasUnavailable"}[tc.available],
				}}},
			})
			dir := t.TempDir()
			kc := srv.Kubeconfig(t, dir, "shop")
			if tc.kubeconfig != "" {
				kc = filepath.Join(dir, tc.kubeconfig)
			}
			e, err := experiment.Parse([]byte("tasks: [ready]\nready: {deploy: web, timeout: 1s}\n"), "e.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.stopped {
				cancel()
			}
			var log strings.Builder
			step := Step{Log: logging.New(&log, slog.LevelInfo), Kubeconfig: kube.Kubeconfig{File: kc}}
			var g got
			if err := step.Run(ctx, e, dir); err != nil {
				g.Err = err.Error()
			}
			f, err := metrics.Read(metrics.PathFor(dir, experiment.TaskReady))
			switch {
			case err == nil:
				g.Written, g.Failed = true, f.Failed
			case !errors.Is(err, os.ErrNotExist):
				t.Errorf("ready.metrics.json unreadable: %v", err)
			}
			for _, s := range []*string{&tc.want.Err, &tc.want.Failed} {
				*s = strings.ReplaceAll(*s, "DIR", dir)
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s\nlog:\n%s", diff, log.String())
			}
		})
	}
}
