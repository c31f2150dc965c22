// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pipelineclient "github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	triggersclient "github.com/tektoncd/triggers/pkg/client/clientset/versioned"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/leader"
	"github.com/autox-tekton/autox/internal/objects"
	"github.com/autox-tekton/autox/internal/reap"
	"github.com/autox-tekton/autox/internal/telemetry"
)

// Server timeouts, as Triggers' core interceptors name them: an event is
// a small JSON request answered within Triggers' 3 s per event.
const (
	readTimeout  = 5 * time.Second
	writeTimeout = 20 * time.Second
	idleTimeout  = 60 * time.Second
	// shutdownGrace keeps within the 4 s every autox program ends in
	// after SIGTERM (cli.StopGrace).
	shutdownGrace = 3 * time.Second
	// cancelTimeout bounds one cancel patch.
	cancelTimeout = 2 * time.Second
)

// LeaseName is the Lease the interceptor's replicas compete for: its
// holder reconciles the records.
const LeaseName = "autox-interceptor"

// Config is what cmd/interceptor reads from its flags and environment.
type Config struct {
	// Addr is where to serve HTTPS (-addr, default :8443).
	Addr       string
	Kubeconfig kube.Kubeconfig
	// CertFile, KeyFile and CAFile are a mounted certificate (see Server).
	CertFile, KeyFile, CAFile string
	// CARefresh is how often the caBundle is checked (see Server).
	CARefresh time.Duration
	// CertLifetime is how long each certificate made in the Secret is
	// valid (-cert-lifetime; 0 is DefaultCertLifetime, one year at most).
	CertLifetime time.Duration
	// MaxBodyBytes bounds a request's body (-max-body-bytes; 0 is
	// DefaultMaxBodyBytes, 1 MiB).
	MaxBodyBytes int64
	// Identity names this replica in the Lease autox-interceptor (its pod
	// name, POD_NAME; default the hostname).
	Identity string
	// MetricsAddr serves /metrics, /healthz and /readyz over plain HTTP
	// (-metrics-addr, default :9090).
	MetricsAddr string
	// Namespace, SecretName and ServiceName are SYSTEM_NAMESPACE,
	// INTERCEPTOR_TLS_SECRET_NAME and INTERCEPTOR_TLS_SVC_NAME, which
	// locate the certificate Secret and name the Service it is made for;
	// needed without CertFile.
	Namespace, SecretName, ServiceName string
	// RunsNamespace is where the runs are made (the TriggerTemplate puts
	// them there), read and cancelled (-runs-namespace, default autox).
	RunsNamespace string
}

// Validate returns every problem, each naming the flag or variable.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, badinput.Field("-addr", `is empty; give a listen address, e.g. ":8443"`))
	}
	if c.Identity == "" {
		errs = append(errs, badinput.Field("POD_NAME", "is empty and so is the hostname; set POD_NAME (the downward API's metadata.name)"))
	}
	if len(validation.IsDNS1123Label(c.RunsNamespace)) > 0 {
		errs = append(errs, badinput.Field("-runs-namespace", fmt.Sprintf("%q is not a namespace name; give the namespace the runs go to, e.g. autox", c.RunsNamespace)))
	}
	if c.MetricsAddr == "" {
		errs = append(errs, badinput.Field("-metrics-addr", `is empty; give a listen address, e.g. ":9090"`))
	}
	if c.Namespace == "" && c.CertFile != "" {
		errs = append(errs, badinput.Field("SYSTEM_NAMESPACE", "is not set; it is the install namespace, where the Triggers and records are (triggers/interceptor.yaml sets it)"))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, badinput.Field("-tls-cert-file and -tls-key-file", "go together; give both (a mounted certificate) or neither (a certificate made and rotated in the Secret INTERCEPTOR_TLS_SECRET_NAME)"))
	}
	if c.CAFile != "" && c.CertFile == "" {
		errs = append(errs, badinput.Field("-tls-ca-file", "needs -tls-cert-file and -tls-key-file; without them the CA comes from the certificate Secret"))
	}
	if c.CertFile == "" {
		for _, v := range []struct{ name, value string }{
			{"SYSTEM_NAMESPACE", c.Namespace}, {"INTERCEPTOR_TLS_SECRET_NAME", c.SecretName}, {"INTERCEPTOR_TLS_SVC_NAME", c.ServiceName},
		} {
			if v.value == "" {
				errs = append(errs, badinput.Field(v.name, "is not set; the certificate made in the Secret needs it (triggers/interceptor.yaml sets it), or mount a certificate with -tls-cert-file and -tls-key-file"))
			}
		}
	}
	if c.CARefresh <= 0 {
		errs = append(errs, badinput.Field("-ca-refresh", fmt.Sprintf("%s is not positive; give a duration such as 1m", c.CARefresh)))
	}
	errs = append(errs, c.certProblems()...)
	return errors.Join(errs...)
}

// Run connects to the cluster, fills its caches (Triggers, records,
// runs, the trigger objects' metadata) and serves until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	// As a controller: a launch is a record write and a cancel, a
	// relabel storm many of them; client-go's default of 5 requests/s
	// would queue them past Triggers' 3 s per event.
	kc := cfg.Kubeconfig
	kc.QPS, kc.Burst = 50, 100
	clients, err := kube.Connect(kc)
	if err != nil {
		return err
	}
	pipelines, err := pipelineclient.NewForConfig(clients.Config)
	if err != nil {
		return fmt.Errorf("making the Tekton Pipelines client: %w", err)
	}
	triggers, err := triggersclient.NewForConfig(clients.Config)
	if err != nil {
		return fmt.Errorf("making the Tekton Triggers client: %w", err)
	}
	meta, err := metadata.NewForConfig(clients.Config)
	if err != nil {
		return fmt.Errorf("making the metadata client: %w", err)
	}
	reg := telemetry.NewRegistry()
	metrics := NewMetrics(reg)
	canceller := PipelineRunCanceller{Client: pipelines, Timeout: cancelTimeout}
	records := NewRecordStore(clients.Kube, cfg.Namespace)
	reconciler := NewReconciler(&Reconciler{
		RunsNamespace: cfg.RunsNamespace,
		Records:       records,
		Canceller:     canceller,
		Reaper:        &reap.Reaper{Kube: clients.Kube, PipelineRuns: pipelines.TektonV1(), Namespace: cfg.RunsNamespace, Log: log},
		Results:       clients.Kube.CoreV1(),
		History:       &history.Store{ConfigMaps: clients.Kube.CoreV1(), Namespace: cfg.Namespace},
		Metrics:       metrics,
		Log:           log,
	})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "autox_record_queue_depth", Help: "Records waiting to be reconciled.",
	}, func() float64 { return float64(reconciler.Depth()) }))
	runs, err := NewRunCache(pipelines, cfg.RunsNamespace, reconciler.Enqueue)
	if err != nil {
		return err
	}
	reconciler.Runs = runs
	if _, err := records.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { reconciler.Enqueue(recordKey(obj)) },
		UpdateFunc: func(_, obj any) { reconciler.Enqueue(recordKey(obj)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if cm, ok := obj.(*corev1.ConfigMap); ok {
				if rec, err := contract.RecordFrom(cm); err == nil {
					reconciler.Gone(rec)
				}
			}
		},
	}); err != nil {
		return fmt.Errorf("watching the records: %w", err)
	}
	groups, err := NewGroupCache(clients.Dynamic, cfg.Namespace)
	if err != nil {
		return err
	}
	objectCache := &objects.Cache{Client: meta, Access: &objects.ClusterAccess{Mapper: clients.Mapper, Kube: clients.Kube, Account: "the interceptor's ServiceAccount"}, Log: log}
	targetsChanged := make(chan struct{}, 1)
	groups.OnChange(func() { poke(targetsChanged) })

	var synced atomic.Bool
	metricsLn, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return badinput.Field("-metrics-addr", fmt.Sprintf("%q cannot be listened on: %v", cfg.MetricsAddr, err))
	}
	tel := &telemetry.Server{Listener: metricsLn, Registry: reg, Log: log, Ready: func() error {
		if !synced.Load() {
			return errors.New("filling the caches, or waiting for the certificate")
		}
		return nil
	}}
	go func() {
		if err := tel.Run(ctx); err != nil {
			log.Error(err.Error())
		}
	}()
	go runs.Run(ctx)
	go records.Run(ctx)
	go groups.Run(ctx)
	log.Info("reading the Triggers and records of namespace " + cfg.Namespace + " and the PipelineRuns of namespace " + cfg.RunsNamespace + " into the caches")
	if !cache.WaitForCacheSync(ctx.Done(), runs.HasSynced, records.HasSynced, groups.HasSynced) {
		return fmt.Errorf("filling the caches: %w", context.Cause(ctx))
	}
	go func() {
		said := map[contract.Object]string{}
		for {
			var retry <-chan time.Time
			problems := objectCache.SetTargets(ctx, groups.Targets())
			for target, p := range problems {
				if said[target] != p.Error() {
					log.Warn(fmt.Sprintf("not caching %s (each event about it is a GET): %v", target, p))
				}
			}
			said = map[contract.Object]string{}
			for target, p := range problems {
				said[target] = p.Error()
			}
			if len(problems) > 0 {
				// A grant or a CRD may come later.
				retry = time.After(30 * time.Second)
			}
			select {
			case <-ctx.Done():
				return
			case <-targetsChanged:
			case <-retry:
			}
		}
	}()
	// One replica reconciles (one writer of the run states); both answer
	// events. A new leader looks at every record first: what happened
	// while no reconciler ran.
	reconciler.Keys = records.Keys
	elector := &leader.Lease{Kube: clients.Kube, Namespace: cfg.Namespace, Name: LeaseName, Identity: cfg.Identity,
		Doing: "reconciling the records", Log: log}
	go elector.Run(ctx, reconciler.Run)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return badinput.Field("-addr", fmt.Sprintf("%q cannot be listened on: %v", cfg.Addr, err))
	}
	// Triggers' helpers log through zap; their errors matter, their per-
	// request info lines (a whole response each) do not.
	zcfg := zap.NewProductionConfig()
	zcfg.Level = zap.NewAtomicLevelAt(zap.WarnLevel)
	z, err := zcfg.Build()
	if err != nil {
		return fmt.Errorf("making the logger for Triggers' helpers: %w", err)
	}
	defer func() { _ = z.Sync() }()
	s := &Server{
		Serving:  func() { synced.Store(true) },
		Listener: ln,
		Interceptor: &Interceptor{
			Namespace:     cfg.Namespace,
			RunsNamespace: cfg.RunsNamespace,
			Groups:        groups,
			Objects:       MetadataObjects{Client: meta, Cache: objectCache},
			Records:       records,
			Runs:          runs,
			Canceller:     canceller,
			Metrics:       metrics,
			Log:           log,
		},
		Kube:          clients.Kube,
		Triggers:      triggers.TriggersV1alpha1(),
		Namespace:     cfg.Namespace,
		SecretName:    cfg.SecretName,
		ServiceName:   cfg.ServiceName,
		CertLifetime:  cfg.CertLifetime,
		MaxBodyBytes:  cfg.MaxBodyBytes,
		CertFile:      cfg.CertFile,
		KeyFile:       cfg.KeyFile,
		CAFile:        cfg.CAFile,
		CARefresh:     cfg.CARefresh,
		ReadTimeout:   readTimeout,
		WriteTimeout:  writeTimeout,
		IdleTimeout:   idleTimeout,
		ShutdownGrace: shutdownGrace,
		Log:           log,
		Zap:           z.Sugar(),
	}
	return s.Run(ctx)
}

// recordKey is the group/spec of a record ConfigMap, from its labels.
func recordKey(obj any) string {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return ""
	}
	return cm.Labels[contract.GroupLabel] + "/" + cm.Labels[contract.SpecLabel]
}
