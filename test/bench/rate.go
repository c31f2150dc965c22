// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/autox-tekton/autox/test/apps/httpbin/app"
	"github.com/autox-tekton/autox/test/apps/serve"
)

// Rate accuracy: the rate the server saw over the rate asked for. The
// server is this program's count-server, a process of its own on the
// server core, which answers like httpbin and notes when each request
// arrived: rate = (n-1) / (last - first), not a figure of ours.

// rateGoal: within 1%.
func rateGoal() Goal { return Within(0.99, 1.01) }

// rateCase is one rate and how long it runs.
type rateCase struct {
	rate     int
	duration time.Duration
}

func rateCases() []rateCase {
	return []rateCase{{10, 10 * time.Second}, {1000, 5 * time.Second}, {10000, 3 * time.Second}}
}

// rateConnections send every rate case.
const rateConnections = 16

// Arrivals is what the count-server saw: how many requests arrived (its
// own /arrivals left out), the first and the last arrival.
type Arrivals struct {
	Count         int64 `json:"count"`
	FirstUnixNano int64 `json:"firstUnixNano"`
	LastUnixNano  int64 `json:"lastUnixNano"`
}

// Rate is (Count-1) / (Last-First) in requests/s: the intervals between
// arrivals over the time they span.
func (a Arrivals) Rate() (float64, error) {
	if a.Count < 2 || a.LastUnixNano <= a.FirstUnixNano {
		return 0, fmt.Errorf("the server saw %d requests over %s; a rate needs at least 2 over some time", a.Count, time.Duration(a.LastUnixNano-a.FirstUnixNano))
	}
	return float64(a.Count-1) / time.Duration(a.LastUnixNano-a.FirstUnixNano).Seconds(), nil
}

// counter notes arrivals, then serves next.
type counter struct {
	next http.Handler
	mu   sync.Mutex
	a    Arrivals
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/arrivals" {
		c.mu.Lock()
		a := c.a
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(a)
		return
	}
	now := time.Now().UnixNano()
	c.mu.Lock()
	if c.a.Count == 0 {
		c.a.FirstUnixNano = now
	}
	c.a.Count++
	c.a.LastUnixNano = now
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// countServer is `bench count-server -addr ADDR`: httpbin's app that
// counts arrivals (GET /arrivals), until ctx ends.
func countServer(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("count-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve.HTTP(ctx, "count-server", *addr, &counter{next: app.New()}, stdout)
}

func rateName(c rateCase) string {
	return fmt.Sprintf("http rate %d requests/s -c %d, %s", c.rate, rateConnections, c.duration)
}

// rates measures each rate case on a fresh count-server.
func (s *suite) rates(ctx context.Context) []Row {
	var rows []Row
	for _, c := range rateCases() {
		rows = append(rows, s.rate(ctx, c))
	}
	return rows
}

func (s *suite) rate(ctx context.Context, c rateCase) Row {
	name := rateName(c)
	srv, err := startServer(ctx, s.serverCore, s.self, "count-server", "-addr", "127.0.0.1:0")
	if err != nil {
		return failed(name, rateGoal(), err)
	}
	defer s.stopServer(srv)
	e, _, err := s.ourStep(ctx, "http", c.duration+time.Minute, func(string) (string, error) {
		return fmt.Sprintf("tasks: [http]\nhttp:\n  url: http://%s/get\n  duration: %s\n  connections: %d\n  qps: %d\n", srv.addr, c.duration, rateConnections, c.rate), nil
	})
	if err != nil {
		return failed(name, rateGoal(), err)
	}
	a, err := arrivals(ctx, srv.addr)
	if err != nil {
		return failed(name, rateGoal(), err)
	}
	got, err := a.Rate()
	if err != nil {
		return failed(name, rateGoal(), err)
	}
	span := time.Duration(a.LastUnixNano - a.FirstUnixNano)
	return measured(name, Figure{"achieved", got, "requests/s"}, Figure{"asked", float64(c.rate), "requests/s"}, rateGoal(),
		fmt.Sprintf("the server saw %d requests from first to last in %.3fs; cmd/http counted %d in %.3fs", a.Count, span.Seconds(), e.RequestCount, e.DurationSeconds))
}

// arrivals asks a count-server what it saw.
func arrivals(ctx context.Context, addr string) (Arrivals, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/arrivals", nil)
	if err != nil {
		return Arrivals{}, err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return Arrivals{}, fmt.Errorf("asking the count-server for its arrivals: %w", err)
	}
	defer resp.Body.Close()
	var a Arrivals
	if resp.StatusCode != http.StatusOK {
		return Arrivals{}, fmt.Errorf("asking the count-server for its arrivals: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return Arrivals{}, fmt.Errorf("the count-server's arrivals: %w", err)
	}
	return a, nil
}
