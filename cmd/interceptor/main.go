// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command interceptor is the autox ClusterInterceptor: it tells the
// EventListener whether an event about a trigger object is a new version
// to test, names the PipelineRun, and cancels the runs a new version (or
// a removed label, or a deleted object) supersedes.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/interceptor"
	"github.com/autox-tekton/autox/internal/kube"
)

const usage = `interceptor: the autox ClusterInterceptor, served over HTTPS at /autox

An event is a hint to look again: it reads the group's Trigger, the
trigger object (metadata only) and the group's record from its own
caches in SYSTEM_NAMESPACE, decides, writes the record (optimistic
concurrency) and patches only spec.status to cancel. Prometheus metrics,
/healthz and /readyz are served on -metrics-addr. Every replica answers
events; the one holding the Lease autox-interceptor (named by $POD_NAME,
else the hostname) also reconciles the records with their runs. A request
body over -max-body-bytes is answered 413 and decides nothing.

Its certificate and CA (valid -cert-lifetime) are made in the Secret
INTERCEPTOR_TLS_SECRET_NAME of namespace SYSTEM_NAMESPACE for the
Service INTERCEPTOR_TLS_SVC_NAME, and the ClusterInterceptor autox's
caBundle is kept equal to the CAs. When a fifth of the lifetime (at
least 100s) is left, the next CA is added to the caBundle, and the next
certificate served 70s later, once the EventListeners have read it. A
Secret holding no usable certificate gets a new one. Or mount your own
with -tls-cert-file and -tls-key-file (and -tls-ca-file to have the
caBundle kept).

Exit status: 0 stopped by SIGTERM or SIGINT, 2 bad input (a flag, the
environment, the kubeconfig), 3 failed (the cluster, the certificate).`

func main() {
	kube.Main("interceptor", func(ctx context.Context, log *slog.Logger) error {
		return run(ctx, os.Args[1:], os.Stderr, log, os.Getenv)
	})
}

func run(ctx context.Context, args []string, stderr io.Writer, log *slog.Logger, getenv func(string) string) error {
	env := map[string]string{
		"addr": "AUTOX_INTERCEPTOR_ADDR", "metrics-addr": "AUTOX_METRICS_ADDR", "kubeconfig": "AUTOX_KUBECONFIG", "ca-refresh": "AUTOX_CA_REFRESH",
		"tls-cert-file": "AUTOX_TLS_CERT_FILE", "tls-key-file": "AUTOX_TLS_KEY_FILE", "tls-ca-file": "AUTOX_TLS_CA_FILE",
		"cert-lifetime": "AUTOX_CERT_LIFETIME", "max-body-bytes": "AUTOX_MAX_BODY_BYTES",
	}
	fs := flag.NewFlagSet("interceptor", flag.ContinueOnError)
	addr := fs.String("addr", ":8443", "address to serve HTTPS on")
	metricsAddr := fs.String("metrics-addr", ":9090", "address to serve /metrics, /healthz and /readyz on (plain HTTP)")
	kubeconfig := fs.String("kubeconfig", "", "one kubeconfig file, read alone (default: $KUBECONFIG, then ~/.kube/config; in a pod, the pod's service account)")
	certFile := fs.String("tls-cert-file", "", "a mounted PEM certificate to serve, read again when it changes (default: made and rotated in the Secret)")
	keyFile := fs.String("tls-key-file", "", "the key of -tls-cert-file")
	caFile := fs.String("tls-ca-file", "", "with -tls-cert-file: the CA to keep in the ClusterInterceptor's caBundle (default: you keep caBundle)")
	runsNamespace := fs.String("runs-namespace", "autox", "the namespace the runs are made in (the TriggerTemplate's), read and cancelled")
	caRefresh := cli.Duration(fs, "ca-refresh", time.Minute, cli.DurationRange{Min: time.Second, Max: 24 * time.Hour, Example: "1m"}, "how often the ClusterInterceptor's caBundle is compared with the CA")
	certLifetime := cli.Duration(fs, "cert-lifetime", interceptor.DefaultCertLifetime, cli.DurationRange{Min: interceptor.MinCertLifetime, Max: interceptor.MaxCertLifetime, Example: "2160h (90 days)"},
		"how long each certificate made in the Secret is valid, at most a year (8760h); it is rotated when a fifth (at least 100s) is left")
	maxBody := cli.Int(fs, "max-body-bytes", interceptor.DefaultMaxBodyBytes, cli.IntRange{Min: 1, Max: interceptor.MaxMaxBodyBytes, Example: "1048576"},
		"the largest request body read, in bytes; a larger one is answered 413 and decides nothing")
	fs.Usage = func() { cli.Usage(stderr, fs, usage, env) }
	if err := cli.Parse(fs, args, env, getenv); err != nil {
		return err
	}
	identity := getenv("POD_NAME")
	if identity == "" {
		identity, _ = os.Hostname()
	}
	cfg := interceptor.Config{
		Identity:    identity,
		Addr:        *addr,
		MetricsAddr: *metricsAddr,
		Kubeconfig:  kube.Kubeconfig{File: *kubeconfig, Files: getenv("KUBECONFIG"), Home: getenv("HOME")},
		CertFile:    *certFile, KeyFile: *keyFile, CAFile: *caFile,
		CARefresh:     *caRefresh,
		CertLifetime:  *certLifetime,
		MaxBodyBytes:  int64(*maxBody),
		Namespace:     getenv("SYSTEM_NAMESPACE"),
		SecretName:    getenv("INTERCEPTOR_TLS_SECRET_NAME"),
		ServiceName:   getenv("INTERCEPTOR_TLS_SVC_NAME"),
		RunsNamespace: *runsNamespace,
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return interceptor.Run(ctx, cfg, log)
}
