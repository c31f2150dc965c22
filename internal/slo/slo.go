// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package slo checks service level objectives against metric values:
// an upper limit holds when value <= limit, a lower one when value >= limit.
// A metric without a value never satisfies an SLO; the verdict says why.
package slo

import (
	"sort"
	"strconv"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/names"
)

// Bounds.
const (
	Upper = "upper"
	Lower = "lower"
)

// Verdict is one SLO checked.
type Verdict struct {
	Metric string  `json:"metric"`
	Bound  string  `json:"bound"`
	Limit  float64 `json:"limit"`
	// Value is nil when the metric has no value.
	Value     *float64 `json:"value"`
	Satisfied bool     `json:"satisfied"`
	// Unavailable says why Value is nil.
	Unavailable string `json:"unavailable,omitempty"`
}

// Condition writes the verdict the way Iter8's report did:
// "http-get/latency-mean (msec) <= 50".
func (v Verdict) Condition(units string) string {
	name := v.Metric
	if units != "" {
		name += " (" + units + ")"
	}
	op := "<="
	if v.Bound == Lower {
		op = ">="
	}
	return name + " " + op + " " + formatLimit(v.Limit)
}

func formatLimit(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Evaluate checks every SLO in a stable order (metric name, then upper
// before lower). unavailable gives the reason for metrics that exist but
// have no value.
func Evaluate(s *experiment.SLOs, values map[string]float64, unavailable map[string]string) []Verdict {
	if s == nil {
		return nil
	}
	var out []Verdict
	for _, b := range []struct {
		bound  string
		limits map[string]float64
	}{{Upper, s.Upper}, {Lower, s.Lower}} {
		for m, limit := range b.limits {
			v := Verdict{Metric: m, Bound: b.bound, Limit: limit}
			if val, ok := values[m]; ok {
				v.Value = &val
				v.Satisfied = (b.bound == Upper && val <= limit) || (b.bound == Lower && val >= limit)
			} else if why, ok := unavailable[m]; ok {
				v.Unavailable = why
			} else {
				v.Unavailable = "no such metric" + closest(m, values, unavailable)
			}
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].Bound == Upper && out[j].Bound == Lower
	})
	return out
}

// AllSatisfied reports whether every verdict holds (true for none).
func AllSatisfied(vs []Verdict) bool {
	for _, v := range vs {
		if !v.Satisfied {
			return false
		}
	}
	return true
}

// closest suggests the metric name nearest to a misspelt one.
func closest(m string, values map[string]float64, unavailable map[string]string) string {
	known := make([]string, 0, len(values)+len(unavailable))
	for name := range values {
		known = append(known, name)
	}
	for name := range unavailable {
		known = append(known, name)
	}
	if best, ok := names.Closest(m, known, len(m)/3); ok {
		return "; did you mean " + best + "?"
	}
	return "; the report lists the metrics this experiment has"
}
