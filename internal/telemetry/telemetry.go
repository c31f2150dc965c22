// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package telemetry serves what a controller's operators and the kubelet
// read: Prometheus metrics at /metrics, liveness at /healthz and
// readiness at /readyz, on a plain HTTP port of its own (the interceptor's
// HTTPS port is for the EventListener). Each program keeps its metrics in
// its own Registry: nothing here is global.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry is a registry with the Go runtime's and the process's
// collectors, as client_golang's default one has.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Server serves /metrics, /healthz and /readyz.
type Server struct {
	// Listener is where it serves (main listens on -metrics-addr).
	Listener net.Listener
	Registry *prometheus.Registry
	// Ready says why the program cannot serve yet (nil: it can). The
	// kubelet takes the pod out of its Service while it is not nil.
	Ready func() error
	Log   *slog.Logger
}

// Handler routes the three paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if s.Ready != nil {
			if err := s.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.Listener) }()
	s.Log.Info("serving /metrics, /healthz and /readyz", "addr", s.Listener.Addr().String())
	select {
	case err := <-served:
		return fmt.Errorf("serving metrics on %s: %w", s.Listener.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
