// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBoundedFlags: a duration or integer flag outside its range, from
// the command line or the environment, is one line naming the flag, the
// value and the range; the usage is printed for -h only.
func TestBoundedFlags(t *testing.T) {
	type got struct {
		Err     string
		Usage   bool
		Wait    time.Duration
		Resync  time.Duration
		Compare int
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want got
	}{
		{"defaults", nil, nil, got{Wait: 0, Resync: 5 * time.Minute}},
		{"within the ranges", []string{"-t", "24h", "-resync", "0", "-compare", "100"}, nil, got{Wait: 24 * time.Hour, Compare: 100}},
		{"a duration beyond the range", []string{"-t", "999999999h"}, nil,
			got{Err: `-t: "999999999h" is not a duration within 0s..24h; write one such as 5m`, Resync: 5 * time.Minute}},
		{"a negative duration", []string{"-t", "-1s"}, nil,
			got{Err: `-t: "-1s" is not a duration within 0s..24h; write one such as 5m`, Resync: 5 * time.Minute}},
		{"not a duration", []string{"-resync", "soon"}, nil,
			got{Err: `-resync: "soon" is not 0 or a duration within 1s..24h; write one such as 5m, or 0 to check only on changes`, Resync: 5 * time.Minute}},
		{"below the range but 0", []string{"-resync", "1ms"}, nil,
			got{Err: `-resync: "1ms" is not 0 or a duration within 1s..24h; write one such as 5m, or 0 to check only on changes`, Resync: 5 * time.Minute}},
		{"an integer beyond int64", []string{"-compare", "99999999999999999999"}, nil,
			got{Err: `-compare: "99999999999999999999" is not a whole number within 2..100; write one such as 2`, Resync: 5 * time.Minute}},
		{"from the environment", nil, map[string]string{"AUTOX_TIMEOUT": "48h"},
			got{Err: `AUTOX_TIMEOUT (-t): "48h" is not a duration within 0s..24h; write one such as 5m`, Resync: 5 * time.Minute}},
		{"an unknown flag", []string{"-x"}, nil,
			got{Err: "flag provided but not defined: -x; run with -h for the flags", Resync: 5 * time.Minute}},
		{"-h prints the usage", []string{"-h"}, nil, got{Err: flag.ErrHelp.Error(), Usage: true, Resync: 5 * time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("step", flag.ContinueOnError)
			wait := Duration(fs, "t", 0, DurationRange{Max: 24 * time.Hour, Example: "5m"}, "how long to wait")
			resync := Duration(fs, "resync", 5*time.Minute, DurationRange{Min: time.Second, Max: 24 * time.Hour, Zero: "to check only on changes", Example: "5m"}, "how often")
			compare := Int(fs, "compare", 0, IntRange{Min: 2, Max: 100, Example: "2"}, "versions")
			var usage bytes.Buffer
			env := map[string]string{"t": "AUTOX_TIMEOUT"}
			fs.Usage = func() { Usage(&usage, fs, "step: does a step", env) }
			err := Parse(fs, tc.args, env, func(k string) string { return tc.env[k] })
			g := got{Usage: usage.Len() > 0, Wait: *wait, Resync: *resync, Compare: *compare}
			if err != nil {
				g.Err = err.Error()
				if !errors.Is(err, flag.ErrHelp) && Exit("step", err, &bytes.Buffer{}) != 2 {
					t.Errorf("exit %d, want 2", Exit("step", err, &bytes.Buffer{}))
				}
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
