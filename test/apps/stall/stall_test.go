// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package stall

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRemaining(t *testing.T) {
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := Stall{Every: 5 * time.Second, For: time.Second, Start: start}
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{0, time.Second},
		{300 * time.Millisecond, 700 * time.Millisecond},
		{time.Second, 0},
		{4999 * time.Millisecond, 0},
		{5 * time.Second, time.Second},
		{5250 * time.Millisecond, 750 * time.Millisecond},
		{12 * time.Second, 0},
	} {
		if diff := cmp.Diff(tc.want, s.Remaining(start.Add(tc.at))); diff != "" {
			t.Errorf("Remaining at +%s (-want +got):\n%s", tc.at, diff)
		}
	}
	if got := (Stall{}).Remaining(start); got != 0 {
		t.Errorf("the zero Stall stalls for %s", got)
	}
	if got := New(0, time.Second).Remaining(time.Now()); got != 0 {
		t.Errorf("New(0, 1s) stalls for %s", got)
	}
}

func TestWaitEndsWithTheStall(t *testing.T) {
	s := Stall{Every: time.Hour, For: 200 * time.Millisecond, Start: time.Now()}
	begin := time.Now()
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took < 150*time.Millisecond || took > time.Second {
		t.Errorf("Wait took %s, want about 200ms", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Start = time.Now()
	if err := s.Wait(ctx); err == nil {
		t.Error("Wait with a cancelled context during a stall returned nil")
	}
}

func TestImplied(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Stall
		q    float64
		want time.Duration
	}{
		{"the benchmark's server: 1s every 5s, p99", Stall{Every: 5 * time.Second, For: time.Second}, 0.99, 950 * time.Millisecond},
		{"the unit tests' server: 200ms every 1s, p99", Stall{Every: time.Second, For: 200 * time.Millisecond}, 0.99, 190 * time.Millisecond},
		{"p90 of the benchmark's server", Stall{Every: 5 * time.Second, For: time.Second}, 0.90, 500 * time.Millisecond},
		{"stalls too rare for the p99", Stall{Every: 10 * time.Second, For: 50 * time.Millisecond}, 0.99, 0},
		{"no stalls", Stall{}, 0.99, 0},
	} {
		if got := tc.s.Implied(tc.q); got.Round(time.Microsecond) != tc.want {
			t.Errorf("%s: Implied(%g) = %s, want %s", tc.name, tc.q, got, tc.want)
		}
	}
}
