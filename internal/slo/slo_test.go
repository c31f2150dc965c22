// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package slo

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/experiment"
)

func f(v float64) *float64 { return &v }

func TestEvaluate(t *testing.T) {
	values := map[string]float64{
		"http-get/error-count":  0,
		"http-get/latency-mean": 49.5,
		"http-get/latency-p99":  120,
		"http-post/error-rate":  0.25,
	}
	unavailable := map[string]string{"http-dead/latency-mean": "no requests got a response"}
	for _, tc := range []struct {
		name    string
		slos    *experiment.SLOs
		want    []Verdict
		wantAll bool
	}{{
		name:    "no SLOs",
		slos:    nil,
		want:    nil,
		wantAll: true,
	}, {
		name: "upper holds at and below the limit",
		slos: &experiment.SLOs{Upper: map[string]float64{"http-get/error-count": 0, "http-get/latency-mean": 50}},
		want: []Verdict{
			{Metric: "http-get/error-count", Bound: Upper, Limit: 0, Value: f(0), Satisfied: true},
			{Metric: "http-get/latency-mean", Bound: Upper, Limit: 50, Value: f(49.5), Satisfied: true},
		},
		wantAll: true,
	}, {
		name: "upper breached",
		slos: &experiment.SLOs{Upper: map[string]float64{"http-get/latency-p99": 100}},
		want: []Verdict{{Metric: "http-get/latency-p99", Bound: Upper, Limit: 100, Value: f(120), Satisfied: false}},
	}, {
		name: "lower holds and breaks; upper sorts before lower",
		slos: &experiment.SLOs{
			Lower: map[string]float64{"http-post/error-rate": 0.25, "http-get/latency-mean": 60},
			Upper: map[string]float64{"http-get/latency-mean": 60},
		},
		want: []Verdict{
			{Metric: "http-get/latency-mean", Bound: Upper, Limit: 60, Value: f(49.5), Satisfied: true},
			{Metric: "http-get/latency-mean", Bound: Lower, Limit: 60, Value: f(49.5), Satisfied: false},
			{Metric: "http-post/error-rate", Bound: Lower, Limit: 0.25, Value: f(0.25), Satisfied: true},
		},
	}, {
		name: "metric without a value is not satisfied and says why",
		slos: &experiment.SLOs{Upper: map[string]float64{"http-dead/latency-mean": 50}},
		want: []Verdict{{Metric: "http-dead/latency-mean", Bound: Upper, Limit: 50, Unavailable: "no requests got a response"}},
	}, {
		name: "unknown metric suggests the closest",
		slos: &experiment.SLOs{Upper: map[string]float64{"http-get/latency-maen": 50, "grpc/whatever": 1}},
		want: []Verdict{
			{Metric: "grpc/whatever", Bound: Upper, Limit: 1, Unavailable: "no such metric; the report lists the metrics this experiment has"},
			{Metric: "http-get/latency-maen", Bound: Upper, Limit: 50, Unavailable: "no such metric; did you mean http-get/latency-mean?"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.slos, values, unavailable)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if AllSatisfied(got) != tc.wantAll {
				t.Errorf("AllSatisfied = %t, want %t", AllSatisfied(got), tc.wantAll)
			}
		})
	}
}

func TestCondition(t *testing.T) {
	got := []string{
		Verdict{Metric: "http-get/latency-mean", Bound: Upper, Limit: 50}.Condition("msec"),
		Verdict{Metric: "http-get/error-rate", Bound: Lower, Limit: 0.015}.Condition(""),
	}
	want := []string{"http-get/latency-mean (msec) <= 50", "http-get/error-rate >= 0.015"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
