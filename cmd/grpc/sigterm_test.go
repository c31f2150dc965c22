// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

// TestSIGTERM stops the built grpc command as Tekton does on cancel and
// timeout, mid-load: it must end within 5s, exit 3, say where what it
// measured went, and leave a metrics file marked stopped.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/grpc")
	s, host, err := app.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.GRPC.Stop()
	for _, tc := range []struct {
		name     string
		metadata string
		// atLeast calls the server must have begun before the stop.
		atLeast int64
	}{
		{"mid-load", "{}", 20},
		// Every call hangs for a minute: the ones in flight must be cut.
		{"server hangs", "{x-delay-ms: '60000'}", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			exp := filepath.Join(dir, "experiment.yaml")
			clitest.WriteFile(t, exp, "tasks: [grpc]\ngrpc: {host: "+host+", call: routeguide.RouteGuide.GetFeature, duration: 60s, rps: 50, concurrency: 4, metadata: "+tc.metadata+"}\n")
			p := clitest.Start(t, bin, nil, "-f", exp, "-dir", dir, "-progress", "1s")
			before := s.Count("GetFeature")
			p.WaitFor(t, "load at the server", 10*time.Second, func() bool { return s.Count("GetFeature")-before >= tc.atLeast })

			code, took := p.Terminate(t, 5*time.Second)
			stderr := p.Stderr()
			path := metrics.PathFor(dir, "grpc")
			want := "grpc: stopped (terminated signal received); wrote what was measured until then to " + path + "\n"
			if code != 3 || took > 5*time.Second || clitest.LastLine(stderr) != want {
				t.Errorf("after SIGTERM: exit %d after %s, last line %q\nwant exit 3 within 5s, %q\nstderr:\n%s", code, took.Round(time.Millisecond), clitest.LastLine(stderr), want, stderr)
			}
			clitest.NoPanic(t, stderr)
			f, err := metrics.Read(path)
			if err != nil {
				t.Fatalf("no metrics of what was sent: %v", err)
			}
			if got, sent := f.Endpoints[0].RequestCount, s.Count("GetFeature")-before; tc.metadata == "{}" && (got < tc.atLeast || got > sent) {
				t.Errorf("metrics count %d calls; the server saw %d, and %d before the stop", got, sent, tc.atLeast)
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
