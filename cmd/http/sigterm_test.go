// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// TestSIGTERM stops the built http command as Tekton does on cancel and
// timeout, mid-load: it must end within 5s, exit 3, say where what it
// measured went, and leave a metrics file marked stopped.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/http")
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	for _, tc := range []struct {
		name string
		path string // requests counted by the server before the stop
		// atLeast requests the server must have seen before the stop.
		atLeast int64
	}{
		{"mid-load", "/get", 20},
		// Every request hangs for a minute: the ones in flight must be cut.
		{"server hangs", "/delay/60000", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := filepath.Join(dir, "experiment.yaml")
			clitest.WriteFile(t, exp, "tasks: [http]\nhttp: {url: "+srv.URL+tc.path+", duration: 60s, qps: 50, connections: 4}\n")
			p := clitest.Start(t, bin, nil, "-f", exp, "-dir", dir, "-progress", "1s")
			before := a.Count(tc.path)
			p.WaitFor(t, "load at the server", 10*time.Second, func() bool { return a.Count(tc.path)-before >= tc.atLeast })

			code, took := p.Terminate(t, 5*time.Second)
			stderr := p.Stderr()
			path := metrics.PathFor(dir, "http")
			want := "http: stopped (terminated signal received); wrote what was measured until then to " + path + "\n"
			if code != 3 || took > 5*time.Second || clitest.LastLine(stderr) != want {
				t.Errorf("after SIGTERM: exit %d after %s, last line %q\nwant exit 3 within 5s, %q\nstderr:\n%s", code, took.Round(time.Millisecond), clitest.LastLine(stderr), want, stderr)
			}
			clitest.NoPanic(t, stderr)
			f, err := metrics.Read(path)
			if err != nil {
				t.Fatalf("no metrics of what was sent: %v", err)
			}
			if got, sent := f.Endpoints[0].RequestCount, a.Count(tc.path)-before; tc.path == "/get" && (got < tc.atLeast || got > sent) {
				t.Errorf("metrics count %d requests; the server saw %d, and %d before the stop", got, sent, tc.atLeast)
			}
			if s := stoppedField(t, path); s == "" {
				t.Errorf(`metrics file has no "stopped" reason`)
			}
		})
	}
}

// stoppedField is the "stopped" field of a metrics file, read as JSON so
// that this test compiles before metrics.File has the field.
func stoppedField(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Stopped string `json:"stopped"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Stopped
}
