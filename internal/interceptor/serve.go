// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	triggersclient "github.com/tektoncd/triggers/pkg/client/clientset/versioned/typed/triggers/v1alpha1"
	"github.com/tektoncd/triggers/pkg/interceptors/server"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/autox-tekton/autox/internal/badinput"
)

// Server serves the Interceptor over TLS with Tekton Triggers' interceptor
// server (path /autox, 3 s per event) and keeps the caBundle of the
// ClusterInterceptor autox equal to the CAs of the certificates it serves.
type Server struct {
	// Listener is where it serves (main listens on :8443).
	Listener net.Listener
	// Interceptor answers the events.
	Interceptor *Interceptor
	// Kube reads and writes the certificate Secret (not used with CertFile).
	Kube kubernetes.Interface
	// Triggers reads and updates the ClusterInterceptor autox.
	Triggers triggersclient.TriggersV1alpha1Interface
	// Namespace and SecretName locate the certificate Secret, which must
	// exist; the certificate is made in it and rotated (see certSecret)
	// for ServiceName.<Namespace>.svc and .svc.cluster.local.
	Namespace, SecretName, ServiceName string
	// CertLifetime is how long each certificate made in the Secret is
	// valid (0: DefaultCertLifetime); it is rotated when a fifth of that
	// is left.
	CertLifetime time.Duration
	// CertFile and KeyFile are a certificate the user mounts (e.g. from
	// cert-manager); when set, no Secret is read or written and the files
	// are read again when they change.
	CertFile, KeyFile string
	// CAFile, with CertFile, is the CA to keep in the ClusterInterceptor's
	// caBundle; without it the user keeps caBundle.
	CAFile string
	// CARefresh is how often the caBundle is compared with the CA, to mend
	// a ClusterInterceptor applied again without it (as Triggers: 1 min).
	CARefresh time.Duration
	// MaxBodyBytes bounds a request's body (0: DefaultMaxBodyBytes); a
	// larger one is answered 413 and decides nothing.
	MaxBodyBytes int64
	// ReadTimeout, WriteTimeout and IdleTimeout are the HTTP server's.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownGrace is how long requests in flight may take after ctx ends.
	ShutdownGrace time.Duration
	// Serving, when set, is called once the server accepts connections
	// (readiness).
	Serving func()
	// Log is for people; Zap is the logger Triggers' server takes.
	Log *slog.Logger
	Zap *zap.SugaredLogger
	// Clock times the certificates (nil: the real clock).
	Clock clock.Clock

	// syncing keeps two updates of the ClusterInterceptor apart.
	syncing sync.Mutex
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ts := &server.Server{Logger: s.Zap}
	ts.RegisterInterceptor(Name, s.Interceptor)
	limit := s.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	mux := http.NewServeMux()
	mux.Handle("/", limitBody(limit, s.Log, ts))
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

	var getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	if s.CertFile != "" {
		files := &certFiles{cert: s.CertFile, key: s.KeyFile}
		if _, err := files.get(nil); err != nil {
			return badinput.Field("", err.Error()+"; mount a PEM certificate and its key")
		}
		getCert = files.get
		if s.CAFile != "" {
			go s.keepCABundle(ctx, func() ([]byte, error) { return os.ReadFile(s.CAFile) })
		}
	} else {
		var err error
		if getCert, err = s.secretCert(ctx); err != nil {
			return err
		}
	}

	srv := &http.Server{
		Handler: mux,
		// Requests in flight at the stop finish (each has Triggers' 3 s):
		// a cancel patch cut halfway would leave a superseded run going.
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ReadHeaderTimeout: s.ReadTimeout,
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       s.IdleTimeout,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCert},
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(s.Listener, "", "") }()
	s.Log.Info("serving the autox interceptor", "addr", s.Listener.Addr().String(), "path", "/"+Name)
	if s.Serving != nil {
		s.Serving()
	}
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", s.Listener.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownGrace)
	defer cancel()
	srv.SetKeepAlivesEnabled(false)
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// secretCert serves the certificate kept in the Secret (see certSecret),
// stepping it at start, every CARefresh, when it is due and when an
// informer sees the Secret change. That informer watches this one Secret
// (a field selector), so the RBAC can name it.
func (s *Server) secretCert(ctx context.Context) (func(*tls.ClientHelloInfo) (*tls.Certificate, error), error) {
	factory := informers.NewSharedInformerFactoryWithOptions(s.Kube, 0, informers.WithNamespace(s.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + s.SecretName }))
	secrets := factory.Core().V1().Secrets()
	changed := make(chan struct{}, 1)
	if _, err := secrets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke(changed) },
		UpdateFunc: func(any, any) { poke(changed) },
		DeleteFunc: func(any) { poke(changed) },
	}); err != nil {
		return nil, fmt.Errorf("watching Secret %s/%s: %w", s.Namespace, s.SecretName, err)
	}
	lifetime := s.CertLifetime
	if lifetime == 0 {
		lifetime = DefaultCertLifetime
	}
	clk := s.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	cs := &certSecret{
		secrets:     s.Kube.CoreV1().Secrets(s.Namespace),
		setCABundle: s.setCABundle,
		namespace:   s.Namespace, name: s.SecretName,
		names:    dnsNames(s.ServiceName, s.Namespace),
		lifetime: lifetime,
		refresh:  s.CARefresh,
		clock:    clk,
		log:      s.Log,
		ready:    make(chan struct{}),
	}
	factory.Start(ctx.Done())
	go cs.run(ctx, changed)
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case <-cs.ready:
		return cs.getCertificate, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the certificate in Secret %s/%s: %w", s.Namespace, s.SecretName, context.Cause(ctx))
	case <-timeout.C:
		why := errors.New("no certificate was written to it within 30s")
		if err := cs.lastErr.Load(); err != nil {
			why = *err
		}
		return nil, fmt.Errorf("the certificate Secret %s/%s: %w; it must exist (triggers/interceptor.yaml makes it, empty) and the ServiceAccount may get and update it", s.Namespace, s.SecretName, why)
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// keepCABundle compares the caBundle with the mounted CA now and every
// CARefresh. It reads and updates the ClusterInterceptor autox only, by
// name.
func (s *Server) keepCABundle(ctx context.Context, ca func() ([]byte, error)) {
	tick := time.NewTicker(s.CARefresh)
	defer tick.Stop()
	for {
		want, err := ca()
		if err == nil {
			_, err = s.setCABundle(ctx, want, nil)
		} else {
			err = fmt.Errorf("reading the CA for the ClusterInterceptor's caBundle: %w", err)
		}
		if err != nil && ctx.Err() == nil {
			s.Log.Warn(err.Error()+"; retry in "+s.CARefresh.String(), "clusterInterceptor", Name)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// setCABundle makes the ClusterInterceptor's caBundle want, and reports
// whether it held ca before (false when ca is nil).
func (s *Server) setCABundle(ctx context.Context, want []byte, ca *x509.Certificate) (bool, error) {
	s.syncing.Lock()
	defer s.syncing.Unlock()
	for range 3 {
		ci, err := s.Triggers.ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("reading ClusterInterceptor %s: %w", Name, err)
		}
		had := ca != nil && contains(ci.Spec.ClientConfig.CaBundle, ca)
		if bytes.Equal(ci.Spec.ClientConfig.CaBundle, want) {
			return had, nil
		}
		ci.Spec.ClientConfig.CaBundle = want
		if _, err := s.Triggers.ClusterInterceptors().Update(ctx, ci, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) {
				continue
			}
			return had, fmt.Errorf("updating the caBundle of ClusterInterceptor %s: %w", Name, err)
		}
		s.Log.Info("updated the caBundle of ClusterInterceptor "+Name, "clusterInterceptor", Name)
		return had, nil
	}
	return false, fmt.Errorf("updating the caBundle of ClusterInterceptor %s: it kept changing under this replica", Name)
}

// limitBody answers 413, and passes nothing on, when a request's body is
// larger than limit bytes, by its Content-Length or as read. Triggers'
// server reads a body whole, and JSON costs some 8 times its size in
// memory while it is decoded.
func limitBody(limit int64, log *slog.Logger, next http.Handler) http.Handler {
	tooLarge := func(w http.ResponseWriter, r *http.Request) {
		msg := fmt.Sprintf("request body is larger than %d bytes (the interceptor's -max-body-bytes); nothing was decided for this event", limit)
		log.Warn("refused a request: "+msg, "remote", r.RemoteAddr, "contentLength", r.ContentLength)
		w.Header().Set("Connection", "close")
		http.Error(w, msg, http.StatusRequestEntityTooLarge)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			tooLarge(w, r)
			return
		}
		var body bytes.Buffer
		if r.ContentLength > 0 {
			body.Grow(int(r.ContentLength))
		}
		if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
			var big *http.MaxBytesError
			if errors.As(err, &big) {
				tooLarge(w, r)
				return
			}
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(&body)
		r.ContentLength = int64(body.Len())
		next.ServeHTTP(w, r)
	})
}

// certFiles serves a mounted certificate, read again when a file changes
// (a rotated Secret volume swaps its files).
type certFiles struct {
	cert, key string
	mu        sync.Mutex
	loaded    *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	ci, err := os.Stat(c.cert)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert-file: %w", err)
	}
	ki, err := os.Stat(c.key)
	if err != nil {
		return nil, fmt.Errorf("-tls-key-file: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded != nil && ci.ModTime().Equal(c.certMod) && ki.ModTime().Equal(c.keyMod) {
		return c.loaded, nil
	}
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert-file %q and -tls-key-file %q: %w", c.cert, c.key, err)
	}
	c.loaded, c.certMod, c.keyMod = &pair, ci.ModTime(), ki.ModTime()
	return c.loaded, nil
}
