// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"k8s.io/client-go/metadata"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/leader"
	"github.com/autox-tekton/autox/internal/objects"
	"github.com/autox-tekton/autox/internal/telemetry"
)

// Config is what the watcher program is told.
type Config struct {
	// EventListenerURL receives the events; "" means the autox
	// EventListener's Service in Namespace
	// (http://el-autox.<namespace>.svc.cluster.local:8080).
	EventListenerURL string
	// Namespace holds the autox EventListener and its Triggers; "" means
	// the pod's namespace (or the kubeconfig context's).
	Namespace string
	// Resync re-checks every group's agreement this often; 0 never (it is
	// still checked on start, on every change and on every re-list).
	Resync time.Duration
	// MetricsAddr is where /metrics, /healthz and /readyz are served.
	MetricsAddr string
	// LeaderElect: only the replica holding the Lease autox-watcher in
	// Namespace posts. Off, this process always posts (tests, a single
	// watcher outside the cluster).
	LeaderElect bool
	// Identity names this replica in the Lease (the pod's name).
	Identity   string
	Kubeconfig kube.Kubeconfig
}

// DefaultResync is how often every group's agreement is checked again: a
// backstop under the informers, cheap because a group that agrees costs
// no post.
const DefaultResync = 5 * time.Minute

// DefaultMetricsAddr is where the watcher serves its metrics and probes.
const DefaultMetricsAddr = ":9090"

// postTimeout bounds one post to the EventListener, which answers as soon
// as it has read the event (202), before any interceptor runs.
const postTimeout = 10 * time.Second

// Validate checks what can be checked before connecting; each problem
// names the flag.
func (c Config) Validate() error {
	if c.EventListenerURL != "" {
		u, err := url.Parse(c.EventListenerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badinput.Field("-eventlistener-url", fmt.Sprintf("%q is not an http(s) URL; write http://host[:port][/path], e.g. http://el-autox.autox.svc.cluster.local:8080", c.EventListenerURL))
		}
	}
	if c.Resync < 0 {
		return badinput.Field("-resync", fmt.Sprintf("%q is negative; write a duration such as 5m, or 0 to send the state only on start and re-list", c.Resync))
	}
	if c.LeaderElect && c.Identity == "" {
		return badinput.Field("POD_NAME", "is empty and so is the hostname; set POD_NAME (the downward API's metadata.name), or pass -leader-elect=false")
	}
	return nil
}

// Run connects to the cluster and watches until ctx ends (then nil). It
// fails when the cluster cannot be reached or its Triggers not read.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	// As a controller: a launch is a record write and a cancel, a
	// relabel storm many of them; client-go's default of 5 requests/s
	// would queue them past Triggers' 3 s per event.
	kc := cfg.Kubeconfig
	kc.QPS, kc.Burst = 50, 100
	clients, err := kube.Connect(kc)
	if err != nil {
		return err
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = clients.Namespace
	}
	target := cfg.EventListenerURL
	if target == "" {
		target = "http://el-autox." + ns + ".svc.cluster.local:8080"
	}
	meta, err := metadata.NewForConfig(clients.Config)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return badinput.Field("-metrics-addr", fmt.Sprintf("%q: %v; pick a free address, e.g. :9090", cfg.MetricsAddr, err))
	}
	reg := telemetry.NewRegistry()
	metrics := NewMetrics(reg)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	poster := NewPoster(target, &http.Client{Timeout: postTimeout, Transport: transport}, metrics, log)
	access := &objects.ClusterAccess{Mapper: clients.Mapper, Kube: clients.Kube, Account: "the watcher's ServiceAccount"}
	w := &Watcher{
		Dynamic:   clients.Dynamic,
		Kube:      clients.Kube,
		Objects:   &objects.Cache{Client: meta, Access: access, Log: log},
		Access:    access,
		Namespace: ns,
		Resync:    cfg.Resync,
		Poster:    poster,
		Metrics:   metrics,
		Log:       log,
	}
	if cfg.LeaderElect {
		w.Elector = &leader.Lease{Kube: clients.Kube, Namespace: ns, Name: LeaseName, Identity: cfg.Identity, Doing: "posting events", Log: log}
	}
	log.Info(fmt.Sprintf("posting to the EventListener at %s", target))
	var wg sync.WaitGroup
	sctx, stopServer := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv := &telemetry.Server{Listener: lis, Registry: reg, Ready: w.Ready, Log: log}
		if err := srv.Run(sctx); err != nil {
			log.Error(err.Error())
		}
	}()
	err = w.Run(ctx)
	stopServer()
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w; Tekton Triggers must be installed, and triggers/watcher.yaml applied in namespace %s", err, ns)
	}
	log.Info(fmt.Sprintf("stopped (%v); the next start asks again about every group whose record does not agree", context.Cause(ctx)))
	return nil
}
