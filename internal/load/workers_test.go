// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/metrics"
)

func TestParseWorker(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want metrics.Worker
		err  bool
	}{
		{"1/1", metrics.Worker{Index: 1, Of: 1}, false},
		{"3/4", metrics.Worker{Index: 3, Of: 4}, false},
		{"64/64", metrics.Worker{Index: 64, Of: 64}, false},
		{"0/4", metrics.Worker{}, true},
		{"5/4", metrics.Worker{}, true},
		{"1/65", metrics.Worker{}, true},
		{"3", metrics.Worker{Index: 3}, false},
		{"64", metrics.Worker{Index: 64}, false},
		{"0", metrics.Worker{}, true},
		{"65", metrics.Worker{}, true},
		{"a/b", metrics.Worker{}, true},
	} {
		got, err := ParseWorker(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseWorker(%q) = %v, %v; want %v, error %t", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseStartAt(t *testing.T) {
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in, err string
		want    time.Time
	}{
		{"", "", time.Time{}},
		{"2026-12-05T03:10:00Z", "", now.Add(10 * time.Minute)},
		{"2026-12-05T02:00:00Z", "", now.Add(-time.Hour)},
		{"2026-12-05T03:10:01Z", `"2026-12-05T03:10:01Z" is 10m1s ahead, more than 10m0s; check the clock, or start the workers later`, time.Time{}},
		{"03:10", `"03:10" is not an RFC 3339 time; write e.g. 2026-12-05T03:00:00Z`, time.Time{}},
	} {
		got, err := ParseStartAt(tc.in, now)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if diff := cmp.Diff([]any{tc.want, tc.err}, []any{got, msg}); diff != "" {
			t.Errorf("ParseStartAt(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestSpread: without a Worker, every worker runs, each once, all told
// one start time; with one, only it; a Worker of another N is bad input.
func TestSpread(t *testing.T) {
	var mu sync.Mutex
	var ran []metrics.Worker
	starts := map[time.Time]bool{}
	one := func(_ context.Context, w metrics.Worker, at time.Time, _ *slog.Logger) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, w)
		starts[at] = true
		if w.Index == 2 {
			return errors.New("boom")
		}
		return nil
	}
	err := Spread{Task: "http", Workers: 3}.Run(context.Background(), one)
	if err == nil || err.Error() != "worker 2 of 3: boom" {
		t.Errorf("error %v, want worker 2 of 3: boom", err)
	}
	if len(ran) != 3 || len(starts) != 1 {
		t.Errorf("ran %v with %d start times; want 3 workers, one start time", ran, len(starts))
	}
	ran = nil
	if err := (Spread{Task: "http", Workers: 3, Worker: metrics.Worker{Index: 3, Of: 3}}).Run(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]metrics.Worker{{Index: 3, Of: 3}}, ran); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
	// -worker i (a pod of a run): worker i of the task's own count, and
	// nothing where the task has fewer workers than the run has pods.
	for _, tc := range []struct {
		workers, index int
		want           []metrics.Worker
	}{
		{3, 3, []metrics.Worker{{Index: 3, Of: 3}}},
		{2, 3, nil},
		{1, 1, []metrics.Worker{{Index: 1, Of: 1}}},
		{0, 1, []metrics.Worker{{Index: 1, Of: 1}}},
		{0, 2, nil},
	} {
		ran = nil
		if err := (Spread{Task: "http", Workers: tc.workers, Worker: metrics.Worker{Index: tc.index}}).Run(context.Background(), one); err != nil {
			t.Fatalf("workers %d, -worker %d: %v", tc.workers, tc.index, err)
		}
		if diff := cmp.Diff(tc.want, ran); diff != "" {
			t.Errorf("workers %d, -worker %d: ran (-want +got):\n%s", tc.workers, tc.index, diff)
		}
	}
	err = Spread{Task: "grpc", Workers: 3, Worker: metrics.Worker{Index: 1, Of: 2}}.Run(context.Background(), one)
	if !badinput.Is(err) || err.Error() != `grpc.workers: "3" does not match -worker 1/2; pass -worker i/3, or set grpc.workers: 2` {
		t.Errorf("error %v, want bad input naming grpc.workers", err)
	}
}
