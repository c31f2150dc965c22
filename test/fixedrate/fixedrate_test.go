// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !race

// Package fixedrate checks the shipped http and grpc steps' fixed-rate
// mode from outside: the programs built as they ship, a server on
// loopback that notes when each request arrives, and the rate the server
// saw, from its first arrival to its last. Nothing here may run under the
// race detector, which slows the server in this process enough to hold
// the rate back (810 calls/s seen for 1000 asked): `make unit` runs this
// package apart, without -race.
package fixedrate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/routeguide/app"
)

const module = "github.com/autox-tekton/autox"

// arrivals notes when requests arrive.
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) note() {
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.mu.Unlock()
}

// rate is the rate the server saw: requests after the first, over the
// time from the first to the last.
func (a *arrivals) rate() (int, float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := slices.SortedFunc(slices.Values(a.at), func(x, y time.Time) int { return x.Compare(y) })
	if len(at) < 2 {
		return len(at), 0
	}
	return len(at), float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
}

// step builds cmd/<task> into dir and runs it on the experiment.
func step(t *testing.T, dir, task, experiment string) *metrics.Endpoint {
	t.Helper()
	exe := filepath.Join(dir, task)
	if out, err := exec.Command("go", "build", "-o", exe, module+"/cmd/"+task).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", task, err, out)
	}
	exp := filepath.Join(dir, task+".yaml")
	if err := os.WriteFile(exp, []byte(experiment), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe, "-f", exp, "-dir", dir).CombinedOutput()
	t.Logf("%s:\n%s", task, out)
	if err != nil {
		t.Fatalf("%s: %v", task, err)
	}
	f, err := metrics.Read(metrics.PathFor(dir, task))
	if err != nil {
		t.Fatal(err)
	}
	return f.Endpoints[0]
}

// check fails when the server's rate is off by more than 2% of want, or
// the step did not send every request.
func check(t *testing.T, a *arrivals, e *metrics.Endpoint, want float64, n int) {
	t.Helper()
	got, rate := a.rate()
	t.Logf("asked %.0f/s; the server saw %d at %.1f/s (%.2f of asked); %d sent late", want, got, rate, rate/want, e.LateCount)
	if got != n || e.RequestCount != int64(n) || e.ErrorCount != 0 {
		t.Errorf("the server saw %d, the step counted %d with %d errors; want %d, none", got, e.RequestCount, e.ErrorCount, n)
	}
	if rate < 0.98*want || rate > 1.02*want {
		t.Errorf("the server saw %.1f/s, want %.0f/s within 2%%", rate, want)
	}
}

func TestHTTPRate(t *testing.T) {
	a := &arrivals{}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { a.note() }))
	t.Cleanup(srv.Close)
	e := step(t, t.TempDir(), "http", `
tasks: [http]
http:
  url: `+srv.URL+`
  qps: 1000
  duration: 3s
  connections: 16
`)
	check(t, a, e, 1000, 3000)
}

func TestGRPCRate(t *testing.T) {
	a := &arrivals{}
	rg, host, err := app.Start("127.0.0.1:0", grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		a.note()
		return h(ctx, req)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rg.GRPC.Stop)
	e := step(t, t.TempDir(), "grpc", `
tasks: [grpc]
grpc:
  host: `+host+`
  call: routeguide.RouteGuide.GetFeature
  data: {latitude: 407838351, longitude: -746143763}
  rps: 1000
  duration: 3s
  concurrency: 16
`)
	check(t, a, e, 1000, 3000)
}
