// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExtremeSettingsAreBadInputOfTheCommand runs the built autox command
// on the settings of issue 7 that once crashed a step (hey's
// "non-positive interval for NewTicker") or took 23 GB, under a memory
// limit and a timeout with a kill: each must be bad input (exit 2) that
// names the field, before any load.
func TestExtremeSettingsAreBadInputOfTheCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/autox")
	}
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("needs coreutils timeout")
	}
	bin := filepath.Join(t.TempDir(), "autox")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/autox")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/autox: %v\n%s", err, out)
	}
	// A loopback port nobody listens on: were the settings accepted, the
	// load would go there and nowhere else.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	const rate = "is outside 0.001..1000000; write the total requests per second, e.g. 50, or unlimited"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{{
		name: "qps nan",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, qps: nan}\n",
		want: []string{`autox: FILE: http.qps: "nan" ` + rate},
	}, {
		name: "qps inf",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, qps: inf, duration: 2s}\n",
		want: []string{`autox: FILE: http.qps: "inf" ` + rate},
	}, {
		name: "qps hey cannot pace on 4 connections",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, qps: 5000000, connections: 4, duration: 2s}\n",
		want: []string{`autox: FILE: http.qps: "5000000" ` + rate},
	}, {
		name: "grpc concurrency of a billion",
		yaml: "tasks: [grpc]\ngrpc: {host: " + dead + ", call: routeguide.RouteGuide.GetFeature, duration: 2s, concurrency: 1000000000}\n",
		want: []string{`autox: FILE: grpc.concurrency: "1000000000" is outside 1..10000; write the number of concurrent workers, e.g. 50`},
	}, {
		name: "grpc rps and connections",
		yaml: "tasks: [grpc]\ngrpc: {host: " + dead + ", call: routeguide.RouteGuide.GetFeature, duration: 2s, rps: .inf, connections: 100000}\n",
		want: []string{`autox: FILE: grpc.rps: ".inf" ` + rate},
	}, {
		name: "grpc connections above concurrency",
		yaml: "tasks: [grpc]\ngrpc: {host: " + dead + ", call: routeguide.RouteGuide.GetFeature, duration: 2s, concurrency: 10, connections: 1000}\n",
		want: []string{`autox: FILE: grpc.connections: "1000" is more than concurrency 10, and each connection needs a worker; lower connections or raise concurrency`},
	}, {
		name: "http workers 0",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, workers: 0}\n",
		want: []string{`autox: FILE: http.workers: "0" is outside 1..64; write the number of workers that share the load, e.g. 4 (1 sends it from one step)`},
	}, {
		name: "grpc workers 65",
		yaml: "tasks: [grpc]\ngrpc: {host: " + dead + ", call: routeguide.RouteGuide.GetFeature, workers: 65}\n",
		want: []string{`autox: FILE: grpc.workers: "65" is outside 1..64; write the number of workers that share the load, e.g. 4 (1 sends it from one step)`},
	}, {
		name: "http workers a billion at a million per second",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, workers: 1000000000, qps: 1000000, duration: 24h}\n",
		want: []string{`autox: FILE: http.workers: "1000000000" is outside 1..64; write the number of workers that share the load, e.g. 4 (1 sends it from one step)`},
	}, {
		name: "fewer requests than workers",
		yaml: "tasks: [http]\nhttp: {url: http://" + dead + "/, numRequests: 3, workers: 4}\n",
		want: []string{`autox: FILE: http.workers: "4" is more than the 3 requests to send, and every worker sends at least one; lower workers or send more requests`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "experiment.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			// 4 GiB of address space, 30 s, then a kill 5 s later.
			cmd := exec.Command("bash", "-c", `ulimit -v 4194304 && exec timeout -k 5 30 "$0" run -f "$1"`, bin, file)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "FILE", file))
			}
			got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if code != 2 || stdout.Len() != 0 {
				t.Errorf("exit %d with stdout %q, want 2 and nothing (124 or 137 is the timeout)", code, stdout.String())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s", diff)
			}
		})
	}
}
