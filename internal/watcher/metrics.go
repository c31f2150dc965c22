// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the watcher's Prometheus metrics, in the registry it is
// given (telemetry serves it at /metrics).
type Metrics struct {
	// Posted counts events the EventListener accepted (2xx).
	Posted prometheus.Counter
	// Refused counts posts the EventListener answered with anything but
	// 2xx, or did not answer.
	Refused prometheus.Counter
	// Retried counts tries of an event after a failed one.
	Retried prometheus.Counter
	// Asks counts events handed to the Poster because a group's record did
	// not show its object's state.
	Asks prometheus.Counter
	// QueueDepth is the number of objects with an event not posted yet.
	QueueDepth prometheus.Gauge
	// Leader is 1 while this replica holds the lease (and posts), else 0.
	Leader prometheus.Gauge
}

// NewMetrics makes the metrics and registers them in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Posted:     prometheus.NewCounter(prometheus.CounterOpts{Name: "autox_watcher_events_posted_total", Help: "Events the EventListener accepted (2xx)."}),
		Refused:    prometheus.NewCounter(prometheus.CounterOpts{Name: "autox_watcher_events_refused_total", Help: "Posts the EventListener answered with anything but 2xx, or did not answer."}),
		Retried:    prometheus.NewCounter(prometheus.CounterOpts{Name: "autox_watcher_events_retried_total", Help: "Tries of an event after a failed one."}),
		Asks:       prometheus.NewCounter(prometheus.CounterOpts{Name: "autox_watcher_asks_total", Help: "Events sent because a group's record did not show its object's state."}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autox_watcher_queue_depth", Help: "Objects with an event not posted yet."}),
		Leader:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "autox_watcher_leader", Help: "1 while this replica holds the lease and posts, else 0."}),
	}
	reg.MustRegister(m.Posted, m.Refused, m.Retried, m.Asks, m.QueueDepth, m.Leader)
	return m
}
