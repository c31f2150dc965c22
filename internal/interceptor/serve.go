package interceptor

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersclient "github.com/tektoncd/triggers/pkg/client/clientset/versioned/typed/triggers/v1alpha1"
	"github.com/tektoncd/triggers/pkg/interceptors/server"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	secretinformer "knative.dev/pkg/client/injection/kube/informers/core/v1/secret"
	"knative.dev/pkg/logging"
	certresources "knative.dev/pkg/webhook/certificates/resources"

	"github.com/autox-tekton/autox/internal/experiment"
)

// Server serves the Interceptor over TLS with Tekton Triggers' interceptor
// server (path /autox, 3 s per event) and keeps the caBundle of the
// ClusterInterceptor autox equal to the CA of the certificate it serves.
type Server struct {
	// Listener is where it serves (main listens on :8443).
	Listener net.Listener
	// Interceptor answers the events.
	Interceptor *Interceptor
	// Kube reads and writes the certificate Secret (not used with CertFile).
	Kube kubernetes.Interface
	// Triggers reads and updates the ClusterInterceptor autox.
	Triggers triggersclient.TriggersV1alpha1Interface
	// Namespace and SecretName locate the certificate Secret that Triggers'
	// helpers fill and rotate. The helpers read them again from the
	// environment themselves (SYSTEM_NAMESPACE, INTERCEPTOR_TLS_SECRET_NAME,
	// INTERCEPTOR_TLS_SVC_NAME), so main checks the environment holds them.
	Namespace  string
	SecretName string
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
	// ReadTimeout, WriteTimeout and IdleTimeout are the HTTP server's.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownGrace is how long requests in flight may take after ctx ends.
	ShutdownGrace time.Duration
	// Serving, when set, is called once the server accepts connections
	// (readiness).
	Serving func()
	// Log is for people; Zap is the logger Triggers' helpers take.
	Log *slog.Logger
	Zap *zap.SugaredLogger

	// syncing keeps the tick and a Secret change from updating the
	// ClusterInterceptor (or remaking a wiped certificate) at once.
	syncing sync.Mutex
}

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ctx = logging.WithLogger(ctx, s.Zap)
	ts := &server.Server{Logger: s.Zap}
	ts.RegisterInterceptor(Name, s.Interceptor)
	mux := http.NewServeMux()
	mux.Handle("/", ts)
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

	var getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	var ca func() ([]byte, error)
	if s.CertFile != "" {
		files := &certFiles{cert: s.CertFile, key: s.KeyFile}
		if _, err := files.get(nil); err != nil {
			return experiment.Fieldf("", err.Error()+"; mount a PEM certificate and its key")
		}
		getCert = files.get
		if s.CAFile != "" {
			ca = func() ([]byte, error) { return os.ReadFile(s.CAFile) }
		}
	} else {
		var err error
		ctx, getCert, ca, err = s.secretCert(ctx, ts)
		if err != nil {
			return err
		}
	}
	if ca != nil {
		go s.keepCABundle(ctx, ca)
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

// secretCert sets up the certificate as Triggers' core interceptors do:
// CreateAndValidateCerts fills the Secret (which must exist) and rotates it
// before it expires, and GetTLSData serves what the Secret holds, read from
// an informer that Triggers finds in the context. That informer watches
// this one Secret (a field selector), so the RBAC can name it.
func (s *Server) secretCert(ctx context.Context, ts *server.Server) (context.Context, func(*tls.ClientHelloInfo) (*tls.Certificate, error), func() ([]byte, error), error) {
	factory := informers.NewSharedInformerFactoryWithOptions(s.Kube, 0, informers.WithNamespace(s.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + s.SecretName }))
	secrets := factory.Core().V1().Secrets()
	lister := secrets.Lister().Secrets(s.Namespace)
	ctx = context.WithValue(ctx, secretinformer.Key{}, secrets)
	tc := namedInterceptors{TriggersV1alpha1Interface: s.Triggers, name: Name}
	changed := make(chan struct{}, 1)
	if _, err := secrets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(interface{}) { poke(changed) },
		UpdateFunc: func(interface{}, interface{}) { poke(changed) },
	}); err != nil {
		return ctx, nil, nil, fmt.Errorf("watching Secret %s/%s: %w", s.Namespace, s.SecretName, err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), secrets.Informer().HasSynced) {
		return ctx, nil, nil, fmt.Errorf("reading Secret %s/%s: %w", s.Namespace, s.SecretName, context.Cause(ctx))
	}
	// It logs and returns nothing on failure: whether it worked is read
	// from the Secret below.
	server.CreateAndValidateCerts(ctx, s.Kube.CoreV1(), s.Zap, ts, tc)
	if err := waitForCert(ctx, changed, lister.Get, s.SecretName); err != nil {
		return ctx, nil, nil, fmt.Errorf("the certificate Secret %s/%s: %w; it must exist (triggers/interceptor.yaml makes it, empty) and the ServiceAccount may get and update it", s.Namespace, s.SecretName, err)
	}
	getCert := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return server.GetTLSData(ctx, s.Zap) }
	ca := func() ([]byte, error) {
		sec, err := lister.Get(s.SecretName)
		if err != nil {
			return nil, err
		}
		if !hasCert(sec) {
			// Someone emptied it: make a new one, as at start (this starts
			// another rotation watch; it happens once per wipe).
			s.Log.Warn("the certificate Secret lost its certificate; making a new one", "secret", s.Namespace+"/"+s.SecretName)
			server.CreateAndValidateCerts(ctx, s.Kube.CoreV1(), s.Zap, ts, tc)
			return nil, fmt.Errorf("the certificate Secret %s/%s has no certificate yet", s.Namespace, s.SecretName)
		}
		return sec.Data[certresources.CACert], nil
	}
	// A rotated certificate reaches the caBundle at once, not a tick later.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				s.syncCABundle(ctx, ca)
			}
		}
	}()
	return ctx, getCert, ca, nil
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func hasCert(sec *corev1.Secret) bool {
	return len(sec.Data[certresources.ServerKey]) > 0 && len(sec.Data[certresources.ServerCert]) > 0 && len(sec.Data[certresources.CACert]) > 0
}

// waitForCert waits until the informer sees the Secret with a certificate
// (CreateAndValidateCerts has just written it), for up to 30 s.
func waitForCert(ctx context.Context, changed <-chan struct{}, get func(string) (*corev1.Secret, error), name string) error {
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		sec, err := get(name)
		switch {
		case err == nil && hasCert(sec):
			return nil
		case err != nil && !apierrors.IsNotFound(err):
			return err
		}
		select {
		case <-changed:
		case <-timeout.C:
			if err != nil {
				return err
			}
			return errors.New("no certificate was written to it within 30s")
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// keepCABundle compares the caBundle with the CA now and every CARefresh.
// It is ours rather than Triggers' UpdateCACertToClusterInterceptorCRD,
// whose loop ends for good on its first error and lists every
// ClusterInterceptor; this one reads and updates autox only, by name.
func (s *Server) keepCABundle(ctx context.Context, ca func() ([]byte, error)) {
	tick := time.NewTicker(s.CARefresh)
	defer tick.Stop()
	for {
		s.syncCABundle(ctx, ca)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Server) syncCABundle(ctx context.Context, ca func() ([]byte, error)) {
	s.syncing.Lock()
	defer s.syncing.Unlock()
	want, err := ca()
	if err != nil {
		s.Log.Warn("reading the CA for the ClusterInterceptor's caBundle: "+err.Error()+"; retry in "+s.CARefresh.String(), "clusterInterceptor", Name)
		return
	}
	ci, err := s.Triggers.ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
	if err != nil {
		s.Log.Warn("reading ClusterInterceptor "+Name+": "+err.Error()+"; retry in "+s.CARefresh.String(), "clusterInterceptor", Name)
		return
	}
	if bytes.Equal(ci.Spec.ClientConfig.CaBundle, want) {
		return
	}
	ci.Spec.ClientConfig.CaBundle = want
	if _, err := s.Triggers.ClusterInterceptors().Update(ctx, ci, metav1.UpdateOptions{}); err != nil {
		s.Log.Warn("updating the caBundle of ClusterInterceptor "+Name+": "+err.Error()+"; retry in "+s.CARefresh.String(), "clusterInterceptor", Name)
		return
	}
	s.Log.Info("updated the caBundle of ClusterInterceptor "+Name, "clusterInterceptor", Name)
}

// namedInterceptors is the Triggers client as Triggers' helpers see it:
// their List of ClusterInterceptors asks for autox alone (a field
// selector), so that RBAC can grant list by resourceNames.
type namedInterceptors struct {
	triggersclient.TriggersV1alpha1Interface
	name string
}

func (n namedInterceptors) ClusterInterceptors() triggersclient.ClusterInterceptorInterface {
	return namedInterceptorList{ClusterInterceptorInterface: n.TriggersV1alpha1Interface.ClusterInterceptors(), name: n.name}
}

type namedInterceptorList struct {
	triggersclient.ClusterInterceptorInterface
	name string
}

func (n namedInterceptorList) List(ctx context.Context, opts metav1.ListOptions) (*triggersv1alpha1.ClusterInterceptorList, error) {
	opts.FieldSelector = "metadata.name=" + n.name
	return n.ClusterInterceptorInterface.List(ctx, opts)
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
