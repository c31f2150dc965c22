// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// TestSIGTERM stops the built `autox run` mid-load, as Ctrl-C or Tekton
// does: it must end within 5s, exit 3, print no report, and keep what the
// http task measured in the work folder it names, --out or a temporary one.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/autox")
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	for _, tc := range []struct {
		name string
		out  bool
	}{{"with --out", true}, {"in a temporary folder", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			exp := filepath.Join(dir, "experiment.yaml")
			clitest.WriteFile(t, exp, "tasks: [http, assess]\nhttp: {url: "+srv.URL+"/get, duration: 60s, qps: 50, connections: 4}\nassess: {SLOs: {upper: {http/error-count: 0}}}\n")
			args := []string{"run", "-f", exp}
			wantDir := regexp.QuoteMeta(filepath.Join(dir, "out"))
			if tc.out {
				args = append(args, "--out", filepath.Join(dir, "out"))
			} else {
				wantDir = regexp.QuoteMeta(tmp) + "/autox-run-[0-9]+"
			}
			p := clitest.Start(t, bin, []string{"TMPDIR=" + tmp}, args...)
			before := a.Count("/get")
			p.WaitFor(t, "load at the server", 10*time.Second, func() bool { return a.Count("/get")-before >= 20 })

			code, took := p.Terminate(t, 5*time.Second)
			stderr := p.Stderr()
			want := regexp.MustCompile(`^autox: http task: stopped \(terminated signal received\); wrote what was measured until then to (` + wantDir + `/http\.metrics\.json)\n$`)
			m := want.FindStringSubmatch(clitest.LastLine(stderr))
			if code != 3 || took > 5*time.Second || m == nil {
				t.Fatalf("after SIGTERM: exit %d after %s, last line %q\nwant exit 3 within 5s, a line matching %s\nstderr:\n%s", code, took.Round(time.Millisecond), clitest.LastLine(stderr), want, stderr)
			}
			clitest.NoPanic(t, stderr)
			if p.Stdout() != "" {
				t.Errorf("a stopped run printed a report:\n%s", p.Stdout())
			}
			f, err := metrics.Read(m[1])
			if err != nil {
				t.Fatalf("no metrics of what was sent: %v", err)
			}
			if got, sent := f.Endpoints[0].RequestCount, a.Count("/get")-before; got < 20 || got > sent {
				t.Errorf("metrics count %d requests; the server saw %d, and 20 before the stop", got, sent)
			}
			b, err := os.ReadFile(m[1])
			if err != nil {
				t.Fatal(err)
			}
			var stopped struct{ Stopped string }
			if err := json.Unmarshal(b, &stopped); err != nil || stopped.Stopped == "" {
				t.Errorf(`metrics file has no "stopped" reason (%v)`, err)
			}
		})
	}
}
