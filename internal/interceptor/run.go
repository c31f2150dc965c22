package interceptor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	pipelineclient "github.com/tektoncd/pipeline/pkg/client/clientset/versioned"
	triggersclient "github.com/tektoncd/triggers/pkg/client/clientset/versioned"
	"go.uber.org/zap"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/kube"
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

// Config is what cmd/interceptor reads from its flags and environment.
type Config struct {
	// Addr is where to serve HTTPS (-addr, default :8443).
	Addr       string
	Kubeconfig kube.Kubeconfig
	// CertFile, KeyFile and CAFile are a mounted certificate (see Server).
	CertFile, KeyFile, CAFile string
	// CARefresh is how often the caBundle is checked (see Server).
	CARefresh time.Duration
	// Namespace, SecretName and ServiceName are SYSTEM_NAMESPACE,
	// INTERCEPTOR_TLS_SECRET_NAME and INTERCEPTOR_TLS_SVC_NAME, which
	// Triggers' certificate helpers read; needed without CertFile.
	Namespace, SecretName, ServiceName string
}

// Validate returns every problem, each naming the flag or variable.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, experiment.Fieldf("-addr", `is empty; give a listen address, e.g. ":8443"`))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, experiment.Fieldf("-tls-cert-file and -tls-key-file", "go together; give both (a mounted certificate) or neither (a certificate made and rotated in the Secret INTERCEPTOR_TLS_SECRET_NAME)"))
	}
	if c.CAFile != "" && c.CertFile == "" {
		errs = append(errs, experiment.Fieldf("-tls-ca-file", "needs -tls-cert-file and -tls-key-file; without them the CA comes from the certificate Secret"))
	}
	if c.CertFile == "" {
		for _, v := range []struct{ name, value string }{
			{"SYSTEM_NAMESPACE", c.Namespace}, {"INTERCEPTOR_TLS_SECRET_NAME", c.SecretName}, {"INTERCEPTOR_TLS_SVC_NAME", c.ServiceName},
		} {
			if v.value == "" {
				errs = append(errs, experiment.Fieldf(v.name, "is not set; Triggers' certificate helpers need it (triggers/interceptor.yaml sets it), or mount a certificate with -tls-cert-file and -tls-key-file"))
			}
		}
	}
	if c.CARefresh <= 0 {
		errs = append(errs, experiment.Fieldf("-ca-refresh", fmt.Sprintf("%s is not positive; give a duration such as 1m", c.CARefresh)))
	}
	return errors.Join(errs...)
}

// Run connects to the cluster, fills the PipelineRun cache and serves
// until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	clients, err := kube.Connect(cfg.Kubeconfig)
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
	runs, err := NewRunCache(pipelines)
	if err != nil {
		return err
	}
	canceller := PipelineRunCanceller{Client: pipelines, Timeout: cancelTimeout}
	sweeper := NewSweeper(canceller, log)
	runs.OnSuperseded(sweeper.Superseded)
	go sweeper.Run(ctx)
	go runs.Run(ctx)
	log.Info("reading the autox PipelineRuns into the cache")
	if !cache.WaitForCacheSync(ctx.Done(), runs.HasSynced) {
		return fmt.Errorf("filling the PipelineRun cache: %w", context.Cause(ctx))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return experiment.Fieldf("-addr", fmt.Sprintf("%q cannot be listened on: %v", cfg.Addr, err))
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
		Listener:      ln,
		Interceptor:   &Interceptor{Runs: runs, Canceller: canceller, Log: log},
		Kube:          clients.Kube,
		Triggers:      triggers.TriggersV1alpha1(),
		Namespace:     cfg.Namespace,
		SecretName:    cfg.SecretName,
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
