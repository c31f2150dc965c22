// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a call, the label of autox_interceptor_decisions_total.
const (
	outcomeLaunch  = "launch"
	outcomeNoRun   = "no_run"
	outcomeRefused = "refused"
	outcomeInvalid = "invalid"
	outcomeError   = "error"
)

// Metrics are the interceptor's Prometheus metrics, in its own registry.
type Metrics struct {
	// Decisions counts calls by outcome: launch, no_run (nothing to
	// launch), refused (names no autox Trigger, or not its object),
	// invalid (a body or Trigger that cannot be read), error (the
	// cluster could not be read or written).
	Decisions *prometheus.CounterVec
	// Latency is the time from a call's start to its answer.
	Latency prometheus.Histogram
	// LiveReads counts the GETs made because the cache and the event
	// disagreed about the object.
	LiveReads prometheus.Counter
	// Conflicts counts record writes that another writer beat.
	Conflicts prometheus.Counter
	// Cancels counts cancel patches by result (ok, failed).
	Cancels *prometheus.CounterVec
	// Reaped counts pods deleted because Tekton left them Pending after a
	// cancel.
	Reaped prometheus.Counter
	// Reconciles counts record reconciles by result (ok, changed, retry).
	Reconciles *prometheus.CounterVec
	// Keeps counts the ended runs whose result was looked at for the
	// history, by result: kept, no_result (the run stored none), refused
	// (not the run's own result, or not a result).
	Keeps *prometheus.CounterVec
}

// NewMetrics registers the metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autox_interceptor_decisions_total", Help: "Interceptor calls by outcome (launch, no_run, refused, invalid, error).",
		}, []string{"outcome"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "autox_interceptor_decision_seconds", Help: "Time to answer one interceptor call.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		LiveReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "autox_interceptor_live_reads_total", Help: "GETs of a trigger object made because the cache and the event disagreed.",
		}),
		Conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "autox_record_conflicts_total", Help: "Record writes beaten by another writer (optimistic concurrency), then retried.",
		}),
		Cancels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autox_interceptor_cancels_total", Help: "PipelineRun cancel patches by result.",
		}, []string{"result"}),
		Reaped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "autox_interceptor_pods_reaped_total", Help: "Pods of cancelled runs that Tekton left Pending, deleted.",
		}),
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autox_record_reconciles_total", Help: "Record reconciles by result (ok, changed, retry).",
		}, []string{"result"}),
		Keeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autox_history_keeps_total", Help: "Ended runs whose result was looked at for the history, by result (kept, no_result, refused).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.Decisions, m.Latency, m.LiveReads, m.Conflicts, m.Cancels, m.Reaped, m.Reconciles, m.Keeps)
	return m
}
