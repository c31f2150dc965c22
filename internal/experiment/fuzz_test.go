// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/badinput"
)

// FuzzParse: whatever the YAML, Parse answers an experiment or bad input
// (exit 2), never another error (exit 3) or a panic; every problem is one
// line; and an experiment it accepts has every endpoint's traffic within
// the documented limits. `go test` runs the seeds; make fuzz explores.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"../../test/experiments/httpbin.yaml", "../../test/experiments/routeguide.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{
		"tasks: [http]\nhttp: {url: http://h/, qps: 10, duration: 2s, connections: 4}\n",
		"tasks: [grpc]\ngrpc: {host: h:1, call: a.B.C, data: {a: &a [1, 2], b: *a}, rps: 5, total: 10}\n",
		"tasks: [ready, http, assess]\nready: {deploy: d, service: s, timeout: 1m}\nhttp: {url: http://h/, warmupDuration: 1s}\nassess: {SLOs: {upper: {http/latency-mean: 5}}}\n",
		"a: &a [x, x]\nb: &b [*a, *a]\ntasks: *b\n",
		"tasks: [http]\nhttp: {url: http://h/, numRequests: 1e99, qps: .nan}\n",
		"--- \n...\n",
		"{",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data, "fuzz")
		if err != nil {
			ie, ok := err.(*badinput.Error)
			if !ok {
				t.Fatalf("not bad input, so exit 3: %v", err)
			}
			for _, p := range ie.Problems {
				if msg := p.Error(); msg == "" || strings.ContainsAny(msg, "\r\n") {
					t.Fatalf("a problem that is not one line: %q", msg)
				}
			}
			return
		}
		if len(e.Tasks) == 0 {
			t.Fatal("accepted without tasks")
		}
		for _, ep := range e.HTTPEndpoints() {
			checkTraffic(t, ep.Path, ep.Traffic, MaxHTTPConnections, MinHTTPTimeout)
		}
		for _, ep := range e.GRPCEndpoints() {
			checkTraffic(t, ep.Path, ep.Traffic, MaxGRPCConcurrency, MinGRPCTimeout)
			if ep.Connections < 1 || ep.Connections > MaxGRPCConnections || ep.Connections > ep.Workers {
				t.Fatalf("%s: connections %d outside 1..%d or above concurrency %d", ep.Path, ep.Connections, MaxGRPCConnections, ep.Workers)
			}
		}
	})
}

// checkTraffic fails t when a resolved setting is outside limits.go.
func checkTraffic(t *testing.T, path string, tr Traffic, maxWorkers int, minTimeout time.Duration) {
	t.Helper()
	switch {
	case (tr.Count == 0) == (tr.Duration == 0):
		t.Fatalf("%s: count %d and duration %s: want exactly one", path, tr.Count, tr.Duration)
	case tr.Count != 0 && (tr.Count < MinCount || tr.Count > MaxCount):
		t.Fatalf("%s: count %d outside %d..%d", path, tr.Count, MinCount, MaxCount)
	case tr.Duration != 0 && (tr.Duration < MinDuration || tr.Duration > MaxDuration):
		t.Fatalf("%s: duration %s outside %s..%s", path, tr.Duration, MinDuration, MaxDuration)
	case tr.Rate != 0 && !(tr.Rate >= MinRate && tr.Rate <= MaxRate):
		t.Fatalf("%s: rate %v outside %v..%v", path, tr.Rate, MinRate, MaxRate)
	case tr.Workers < 1 || tr.Workers > maxWorkers:
		t.Fatalf("%s: workers %d outside 1..%d", path, tr.Workers, maxWorkers)
	case tr.Timeout < minTimeout || tr.Timeout > MaxTimeout:
		t.Fatalf("%s: timeout %s outside %s..%s", path, tr.Timeout, minTimeout, MaxTimeout)
	case tr.WarmupCount < 0 || tr.WarmupCount > MaxCount || tr.WarmupDuration < 0 || tr.WarmupDuration > MaxDuration:
		t.Fatalf("%s: warmup %d requests or %s outside the limits", path, tr.WarmupCount, tr.WarmupDuration)
	}
}
