// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAlternate runs the bracketed rounds on made-up tools whose rates the
// machine scales run by run: ours 110, theirs 100 on a steady machine, so
// the true ratio is 1.1. A slow spell over two neighbouring runs (one of
// each) or a linear drift must leave 1.1; the old swapped order gave
// 0.951 for the spell over two of ours side by side (rounds 3 and 4).
func TestAlternate(t *testing.T) {
	for _, tc := range []struct {
		name string
		// machine is the speed of the machine during the k-th run (from 0).
		machine   func(k int) float64
		want      float64
		tolerance float64
		rounds    string
	}{
		{"steady", func(int) float64 { return 1 }, 1.1, 1e-12,
			"1.100 1.100 1.100 1.100 1.100 1.100"},
		// Runs: theirs 0, ours 1, theirs 2, ours 3, theirs 4, ...
		{"a spell over ours and the next of theirs", func(k int) float64 {
			if k == 5 || k == 6 {
				return 0.7
			}
			return 1
		}, 1.1, 1e-12, "1.100 1.100 0.920 1.315 1.100 1.100"},
		{"a spell over theirs and the next of ours", func(k int) float64 {
			if k == 4 || k == 5 {
				return 0.7
			}
			return 1
		}, 1.1, 1e-12, "1.100 1.315 0.920 1.100 1.100 1.100"},
		// Within a round the peer's geometric mean sits a hair below
		// the drift's midpoint: sqrt(a^2 - 0.02^2) for a near 0.8.
		{"a linear drift, 2% a run", func(k int) float64 { return 1 - 0.02*float64(k) }, 1.1, 5e-4,
			"1.100 1.100 1.100 1.100 1.100 1.100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &suite{rounds: 6, log: &log}
			k := 0
			run := func(rate float64) func() (float64, error) {
				return func() (float64, error) {
					v := rate * tc.machine(k)
					k++
					return v, nil
				}
			}
			r := s.alternate("row", "ours", "theirs", "requests/s", AtLeast(0.95), run(110), run(100))
			if k != 13 {
				t.Errorf("%d runs, want 13 (6 of ours, 7 of theirs)", k)
			}
			if r.Ratio == nil || math.Abs(*r.Ratio-tc.want) > tc.tolerance {
				t.Fatalf("row %+v (ratio %s), want ratio %.3f within %g", r, ratioOf(r), tc.want, tc.tolerance)
			}
			if r.Verdict != Pass {
				t.Errorf("verdict %q, want %q", r.Verdict, Pass)
			}
			want := []string{"geometric means of 6 rounds, each run of ours between two of theirs (7 of them in all) and its ratio to their geometric mean; each round's ratio: " + tc.rounds}
			if diff := cmp.Diff(want, r.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			if n := strings.Count(log.String(), " between theirs "); n != 6 {
				t.Errorf("%d progress lines name the runs either side, want 6:\n%s", n, log.String())
			}
		})
	}
}

// TestAlternateFails: a run that fails fails the row, naming why, whether
// it is the first of theirs or one of ours.
func TestAlternateFails(t *testing.T) {
	broken := errors.New("hey: exit status 1")
	for _, tc := range []struct {
		name        string
		ours, their int // which call of each fails (from 1); 0 never
	}{
		{"the first of theirs", 0, 1},
		{"the third of ours", 3, 0},
		{"the last of theirs", 0, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &suite{rounds: 6, log: &log}
			tool := func(fail int) func() (float64, error) {
				n := 0
				return func() (float64, error) {
					n++
					if n == fail {
						return 0, broken
					}
					return 100, nil
				}
			}
			r := s.alternate("row", "ours", "theirs", "requests/s", AtLeast(0.95), tool(tc.ours), tool(tc.their))
			if r.Verdict != Failed || r.Ratio != nil || !cmp.Equal(r.Notes, []string{broken.Error()}) {
				t.Errorf("row %+v, want failed with the error as its note", r)
			}
		})
	}
}

func ratioOf(r Row) string {
	if r.Ratio == nil {
		return "none"
	}
	return strconv.FormatFloat(*r.Ratio, 'g', 6, 64)
}
