// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/metrics"
)

// bodies is a test server that keeps every request's body.
type bodies struct {
	mu  sync.Mutex
	got []string
}

func (b *bodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.got = append(b.got, string(body))
	b.mu.Unlock()
}

func (b *bodies) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// TestFileRoots: as the Task runs the step (the experiment as text,
// AUTOX_FILE_ROOTS the data workspace), payloadFile is read from the
// workspace only: the pod's token is refused before any request, with
// exit 2; a file in the workspace is sent.
func TestFileRoots(t *testing.T) {
	root := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "body.json"), []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, roots, payloadFile string
		wantCode                 int
		wantStderr               string
		wantBodies               []string
	}{{
		name: "the pod's token", roots: root, payloadFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
		wantCode:   2,
		wantStderr: `http: http.payloadFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" is outside the files the step may read (` + root + `); put the file in the experiment's workspace data` + "\n",
	}, {
		name: "no workspace bound", roots: "", payloadFile: "body.json",
		wantCode:   2,
		wantStderr: `http: http.payloadFile: "body.json" cannot be read: this step may read no files (no data workspace is bound); bind the experiment's data workspace and put the file there` + "\n",
	}, {
		name: "a file in the workspace", roots: root, payloadFile: "body.json",
		wantCode:   0,
		wantBodies: []string{`{"a":1}`, `{"a":1}`, `{"a":1}`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &bodies{}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			dir := t.TempDir()
			var errs bytes.Buffer
			err := runHTTP(context.Background(), nil, &errs, env(map[string]string{
				"AUTOX_EXPERIMENT":        "tasks: [http]\nhttp: {url: " + ts.URL + "/post, numRequests: 3, connections: 1, qps: unlimited, payloadFile: " + tc.payloadFile + "}\n",
				"AUTOX_EXPERIMENT_SOURCE": "params.experiment",
				"AUTOX_DIR":               dir,
				"AUTOX_FILE_ROOTS":        tc.roots,
			}))
			code := cli.Exit("http", err, &errs)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, errs.String())
			}
			if tc.wantCode != 0 {
				if diff := cmp.Diff(tc.wantStderr, errs.String()); diff != "" {
					t.Errorf("stderr (-want +got):\n%s", diff)
				}
				if _, err := os.Stat(metrics.PathFor(dir, "http")); !os.IsNotExist(err) {
					t.Errorf("bad input left a metrics file (stat: %v)", err)
				}
			}
			if diff := cmp.Diff(tc.wantBodies, srv.all()); diff != "" {
				t.Errorf("request bodies the server saw (-want +got):\n%s", diff)
			}
		})
	}
}
