// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/autox-tekton/autox/internal/experiment"
)

// DurationRange bounds a duration flag: Min..Max, and 0 too when Zero
// says what 0 means. Example is a value to suggest, e.g. "5m".
type DurationRange struct {
	Min, Max time.Duration
	Zero     string
	Example  string
}

// Duration declares a duration flag on fs whose values outside r are bad
// input, with a message that names the flag, the value and the range.
func Duration(fs *flag.FlagSet, name string, value time.Duration, r DurationRange, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	fs.Var(&durationValue{p: p, r: r}, name, usage)
	return p
}

// ProgressRange bounds the load steps' -progress: a line at most every
// 100ms, at least every hour.
func ProgressRange() DurationRange {
	return DurationRange{Min: 100 * time.Millisecond, Max: time.Hour, Example: "5s"}
}

// IntRange bounds an integer flag to Min..Max. Example is a value to
// suggest.
type IntRange struct {
	Min, Max int
	Example  string
}

// Int declares an integer flag on fs whose values outside r are bad
// input, with a message that names the flag, the value and the range.
func Int(fs *flag.FlagSet, name string, value int, r IntRange, usage string) *int {
	p := new(int)
	*p = value
	fs.Var(&intValue{p: p, r: r}, name, usage)
	return p
}

// rangeError is a bounded flag's refusal of a value; its text names the
// value, the range and the fix, but not the flag (Parse adds it).
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

// bounded is a flag value that keeps its last refusal: package flag
// writes a Set error into its own text, so Parse finds it here.
type bounded interface {
	flag.Value
	refusal() *rangeError
}

type durationValue struct {
	p       *time.Duration
	r       DurationRange
	refused *rangeError
}

var _ bounded = (*durationValue)(nil)

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err == nil && ((v >= d.r.Min && v <= d.r.Max) || (v == 0 && d.r.Zero != "")) {
		*d.p = v
		d.refused = nil
		return nil
	}
	within := fmt.Sprintf("a duration within %s..%s", experiment.FormatDuration(d.r.Min), experiment.FormatDuration(d.r.Max))
	fix := "write one such as " + d.r.Example
	if d.r.Zero != "" {
		within = "0 or " + within
		fix += ", or 0 " + d.r.Zero
	}
	d.refused = &rangeError{fmt.Sprintf("%q is not %s; %s", s, within, fix)}
	return d.refused
}

func (d *durationValue) String() string {
	if d == nil || d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d *durationValue) refusal() *rangeError { return d.refused }

type intValue struct {
	p       *int
	r       IntRange
	refused *rangeError
}

var _ bounded = (*intValue)(nil)

func (n *intValue) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err == nil && v >= int64(n.r.Min) && v <= int64(n.r.Max) {
		*n.p = int(v)
		n.refused = nil
		return nil
	}
	n.refused = &rangeError{fmt.Sprintf("%q is not a whole number within %d..%d; write one such as %s", s, n.r.Min, n.r.Max, n.r.Example)}
	return n.refused
}

func (n *intValue) String() string {
	if n == nil || n.p == nil {
		return ""
	}
	return strconv.Itoa(*n.p)
}

func (n *intValue) refusal() *rangeError { return n.refused }
