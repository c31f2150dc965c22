// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// TestFileRoots: with AUTOX_FILE_ROOTS (as the Task sets it), dataFile is
// read from those folders only; the pod's token is refused before any
// call (exit 2), and a relative root is the Task's mistake, told at once.
func TestFileRoots(t *testing.T) {
	s, host, err := app.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	root := t.TempDir()
	for _, tc := range []struct{ name, roots, want string }{{
		name:  "the pod's token as data",
		roots: root,
		want:  `grpc: grpc.dataFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" is outside the files the step may read (` + root + `); put the file in the experiment's workspace data` + "\n",
	}, {
		name:  "a relative root",
		roots: "workspace/data",
		want:  `grpc: AUTOX_FILE_ROOTS: "workspace/data" is not an absolute folder; list the folders the steps may read as absolute paths separated by ':', e.g. /workspace/data` + "\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var errs bytes.Buffer
			err := runGRPC(context.Background(), nil, &errs, env(map[string]string{
				"AUTOX_EXPERIMENT": "tasks: [grpc]\ngrpc: {host: " + host + ", call: routeguide.RouteGuide.GetFeature, total: 5, dataFile: /var/run/secrets/kubernetes.io/serviceaccount/token}\n",
				"AUTOX_DIR":        t.TempDir(),
				"AUTOX_FILE_ROOTS": tc.roots,
			}))
			if code := cli.Exit("grpc", err, &errs); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if diff := cmp.Diff(tc.want, errs.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if n := s.Count("GetFeature"); n != 0 {
				t.Errorf("%d calls sent, want none", n)
			}
		})
	}
}
