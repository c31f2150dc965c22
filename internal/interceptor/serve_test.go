// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	triggersv1alpha1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1alpha1"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	triggersfake "github.com/tektoncd/triggers/pkg/client/clientset/versioned/fake"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc/codes"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"
	certresources "knative.dev/pkg/webhook/certificates/resources"

	"github.com/autox-tekton/autox/internal/contract"
)

const (
	testNamespace = "autox"
	testSecret    = "autox-interceptor-tls"
	testService   = "autox-interceptor"
)

func clusterInterceptor() *triggersv1alpha1.ClusterInterceptor {
	port := int32(8443)
	return &triggersv1alpha1.ClusterInterceptor{
		ObjectMeta: metav1.ObjectMeta{Name: Name, Labels: map[string]string{"server/type": "https"}},
		Spec: triggersv1alpha1.ClusterInterceptorSpec{ClientConfig: triggersv1alpha1.ClientConfig{
			Service: &triggersv1alpha1.ServiceReference{Name: testService, Namespace: testNamespace, Path: Name, Port: &port},
		}},
	}
}

// startServer runs s on loopback until the test ends and returns its
// address once the ClusterInterceptor's caBundle holds a CA.
func startServer(t *testing.T, s *Server, triggers *triggersfake.Clientset) (string, []byte) {
	t.Helper()
	addr := launch(t, s)
	return addr, waitCABundle(t, triggers)
}

// launch runs s on loopback until the test ends and returns its address.
func launch(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listener = ln
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after the stop: %v", err)
		}
	})
	return ln.Addr().String()
}

// waitCABundle waits until the ClusterInterceptor's caBundle holds a CA.
func waitCABundle(t *testing.T, triggers *triggersfake.Clientset) []byte {
	t.Helper()
	var caBundle []byte
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		ci, err := triggers.TriggersV1alpha1().ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		caBundle = ci.Spec.ClientConfig.CaBundle
		return len(caBundle) > 0, nil
	})
	if err != nil {
		t.Fatalf("the ClusterInterceptor's caBundle was not set: %v", err)
	}
	return caBundle
}

// post sends an InterceptorRequest as the EventListener does: HTTPS,
// verifying the server against caBundle under the Service's DNS name.
func post(t *testing.T, addr string, caBundle []byte, req *triggersv1beta1.InterceptorRequest) (int, *triggersv1beta1.InterceptorResponse) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("caBundle holds no PEM certificate: %q", caBundle)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: testService + "." + testNamespace + ".svc",
	}}}
	defer client.CloseIdleConnections()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post("https://"+addr+"/"+Name, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got triggersv1beta1.InterceptorResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decoding the response (HTTP %d): %v", resp.StatusCode, err)
	}
	return resp.StatusCode, &got
}

// asJSON turns the typed Extensions into what a client decodes.
func asJSON(t *testing.T, r *triggersv1beta1.InterceptorResponse) *triggersv1beta1.InterceptorResponse {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out triggersv1beta1.InterceptorResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// TestServe_SecretCertificate: the whole path as in the cluster, on fakes
// of the API server: a certificate is written into the (empty) Secret,
// the caBundle is set from it, and events posted over TLS through
// Triggers' server get the interceptor's answers, bad input included,
// never a 500.
func TestServe_SecretCertificate(t *testing.T) {
	kube := kubefake.NewSimpleClientset(tlsSecret(nil))
	withResourceVersions(kube)
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	f := newFixture(t)
	f.objects.both(dep("2.0.0"))
	f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 1,
		Runs: []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Running}}}, UID: "rec-1", ResourceVersion: "1"}
	f.records.rv = 1
	s := &Server{
		Interceptor: f.interceptor, Kube: kube, Triggers: triggers.TriggersV1alpha1(),
		Namespace: testNamespace, SecretName: testSecret, ServiceName: testService, CARefresh: time.Minute,
		ReadTimeout: 5 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, ShutdownGrace: 5 * time.Second,
		Log: testLogger(t), Zap: zaptest.NewLogger(t).Sugar(),
	}
	addr, caBundle := startServer(t, s, triggers)

	secret, err := kube.CoreV1().Secrets(testNamespace).Get(context.Background(), testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(secret.Data[keyCABundle]), string(caBundle)); diff != "" {
		t.Errorf("caBundle against the Secret's CA (-want +got):\n%s", diff)
	}
	// RBAC grants the ClusterInterceptor autox and the Secret by name:
	// get and update them, and list and watch the Secret by field selector.
	for _, a := range append(triggers.Actions(), kube.Actions()...) {
		switch a := a.(type) {
		case k8stesting.GetAction:
			if a.GetName() != Name && a.GetName() != testSecret {
				t.Errorf("%s of %s %q", a.GetVerb(), a.GetResource().Resource, a.GetName())
			}
		case k8stesting.UpdateAction:
			if name := a.GetObject().(metav1.Object).GetName(); name != Name && name != testSecret {
				t.Errorf("%s of %s %q", a.GetVerb(), a.GetResource().Resource, name)
			}
		case k8stesting.ListAction:
			if got := a.GetListRestrictions().Fields.String(); a.GetResource().Resource != "secrets" || got != "metadata.name="+testSecret {
				t.Errorf("%s of %s with field selector %q", a.GetVerb(), a.GetResource().Resource, got)
			}
		case k8stesting.WatchAction:
			if got := a.GetWatchRestrictions().Fields.String(); a.GetResource().Resource != "secrets" || got != "metadata.name="+testSecret {
				t.Errorf("%s of %s with field selector %q", a.GetVerb(), a.GetResource().Resource, got)
			}
		default:
			t.Errorf("unexpected %s of %s", a.GetVerb(), a.GetResource().Resource)
		}
	}

	for _, tc := range []struct {
		name string
		req  *triggersv1beta1.InterceptorRequest
		want *triggersv1beta1.InterceptorResponse
	}{{
		name: "a new version launches and cancels the running run",
		req:  request(body(t, "update", "autox-httpbin-iter8", "2.0.0")),
		want: launched("2.0.0", 2),
	}, {
		name: "a body that is not JSON is InvalidArgument in a 200",
		req:  request("{"),
		want: &triggersv1beta1.InterceptorResponse{Status: triggersv1beta1.Status{Code: codes.InvalidArgument, Message: "body is not JSON: unexpected EOF"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := post(t, addr, caBundle, tc.req)
			if code != http.StatusOK {
				t.Errorf("HTTP status %d, want 200", code)
			}
			if diff := cmp.Diff(asJSON(t, tc.want), got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"autox/" + run(1)}, f.canceller.cancelled); diff != "" {
		t.Errorf("cancelled PipelineRuns (-want +got):\n%s", diff)
	}
}

// TestServe_MountedCertificate: with -tls-cert-file and -tls-key-file no
// Secret is touched, and -tls-ca-file goes into the caBundle.
func TestServe_MountedCertificate(t *testing.T) {
	key, cert, ca, err := certresources.CreateCerts(context.Background(), testService, testNamespace, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"tls.key": key, "tls.crt": cert, "ca.crt": ca}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kube := kubefake.NewSimpleClientset()
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	f := newFixture(t)
	s := &Server{
		Interceptor: f.interceptor, Kube: kube, Triggers: triggers.TriggersV1alpha1(),
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"), CAFile: filepath.Join(dir, "ca.crt"),
		CARefresh:   time.Minute,
		ReadTimeout: 5 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, ShutdownGrace: 5 * time.Second,
		Log: testLogger(t), Zap: zaptest.NewLogger(t).Sugar(),
	}
	addr, caBundle := startServer(t, s, triggers)
	if diff := cmp.Diff(string(ca), string(caBundle)); diff != "" {
		t.Errorf("caBundle (-want +got):\n%s", diff)
	}
	f.objects.both(dep("1.0.0"))
	code, got := post(t, addr, caBundle, request(body(t, "add", "autox-httpbin-iter8", "1.0.0")))
	if diff := cmp.Diff(asJSON(t, launched("1.0.0", 1)), got); code != http.StatusOK || diff != "" {
		t.Errorf("HTTP %d, response (-want +got):\n%s", code, diff)
	}
	if a := kube.Actions(); len(a) != 0 {
		t.Errorf("with a mounted certificate the Kubernetes API was called: %v", a)
	}
}

// secretServer is a Server on an empty certificate Secret, on fakes.
func secretServer(t *testing.T, f fixture, kube kubernetes.Interface, triggers *triggersfake.Clientset, log *slog.Logger) *Server {
	return &Server{
		Interceptor: f.interceptor, Kube: kube, Triggers: triggers.TriggersV1alpha1(),
		Namespace: testNamespace, SecretName: testSecret, ServiceName: testService, CARefresh: time.Minute,
		ReadTimeout: 5 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, ShutdownGrace: 5 * time.Second,
		Log: log, Zap: zaptest.NewLogger(t).Sugar(),
	}
}

// postRaw posts body as the EventListener does and returns the status
// and the response's text.
func postRaw(t *testing.T, addr string, caBundle []byte, body io.Reader) (int, string) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("caBundle holds no PEM certificate: %q", caBundle)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: testService + "." + testNamespace + ".svc",
	}}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+addr+"/"+Name, "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServe_BodyLimit: a body over -max-body-bytes, whether its
// Content-Length says so or it is sent chunked, is answered 413 in one
// line and decides nothing (though it is an event that would launch);
// the server goes on answering.
func TestServe_BodyLimit(t *testing.T) {
	kube := kubefake.NewSimpleClientset(tlsSecret(nil))
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	f := newFixture(t)
	f.objects.both(dep("1.0.0"))
	log, warnings := recordLog(t)
	addr, caBundle := startServer(t, secretServer(t, f, kube, triggers, log), triggers)

	event, err := json.Marshal(request(body(t, "add", "autox-httpbin-iter8", "1.0.0")))
	if err != nil {
		t.Fatal(err)
	}
	// JSON that would launch, padded to 2 MiB with spaces.
	large := append(bytes.Clone(event), bytes.Repeat([]byte(" "), 2<<20-len(event))...)
	const refused = "request body is larger than 1048576 bytes (the interceptor's -max-body-bytes); nothing was decided for this event"
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"by its Content-Length", bytes.NewReader(large)},
		{"chunked, as read", io.MultiReader(bytes.NewReader(large))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got := postRaw(t, addr, caBundle, tc.body)
			if diff := cmp.Diff(refused+"\n", got); code != http.StatusRequestEntityTooLarge || diff != "" {
				t.Errorf("HTTP %d, want 413; body (-want +got):\n%s", code, diff)
			}
		})
	}
	if f.records.rec != nil {
		t.Errorf("a refused body decided something: record %+v", f.records.rec)
	}
	wantLog := []string{
		"WARN refused a request: " + refused + " remote=", "WARN refused a request: " + refused + " remote=",
	}
	var gotLog []string
	for _, l := range warnings.warnings() {
		gotLog = append(gotLog, l[:strings.Index(l, "remote=")+len("remote=")])
	}
	if diff := cmp.Diff(wantLog, gotLog); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	code, resp := post(t, addr, caBundle, request(body(t, "add", "autox-httpbin-iter8", "1.0.0")))
	if diff := cmp.Diff(asJSON(t, launched("1.0.0", 1)), resp); code != http.StatusOK || diff != "" {
		t.Errorf("the request after: HTTP %d, response (-want +got):\n%s", code, diff)
	}
}

// TestServe_SecretTurnsToGarbage: a Secret overwritten, while served,
// with something that is not a certificate gets the certificate served
// back, with a warning, and a new one to serve next: an EventListener
// that trusts the caBundle as it was is still answered, and the caBundle
// holds the new CA as well.
func TestServe_SecretTurnsToGarbage(t *testing.T) {
	kube := kubefake.NewSimpleClientset(tlsSecret(nil))
	withResourceVersions(kube)
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	f := newFixture(t)
	log, warnings := recordLog(t)
	addr, before := startServer(t, secretServer(t, f, kube, triggers, log), triggers)

	ctx := context.Background()
	sec, err := kube.CoreV1().Secrets(testNamespace).Get(ctx, testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	served := sec.Data[keyServerCert]
	sec.Data = map[string][]byte{keyServerKey: []byte("garbage"), keyServerCert: []byte("garbage"), keyCABundle: []byte("garbage")}
	if _, err := kube.CoreV1().Secrets(testNamespace).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var after []byte
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		ci, err := triggers.TriggersV1alpha1().ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
		after = ci.Spec.ClientConfig.CaBundle
		return err == nil && !bytes.Equal(after, before) && !bytes.Equal(after, []byte("garbage")), err
	}); err != nil {
		t.Fatalf("the caBundle did not change from the garbage: %v", err)
	}
	want := []string{"WARN the certificate Secret holds no usable certificate (ca-cert.pem holds something that is not PEM); writing back the one served, and a new one to serve once its CA has been in the caBundle for 1m10s secret=autox/autox-interceptor-tls"}
	if diff := cmp.Diff(want, warnings.warnings()); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	sec, err = kube.CoreV1().Secrets(testNamespace).Get(ctx, testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sec.Data[keyServerCert], served) || len(sec.Data[keyNextCert]) == 0 {
		t.Errorf("the Secret does not hold the certificate served and a next one: %q", sec.Data)
	}
	if !bytes.Contains(after, before) {
		t.Errorf("the caBundle %q lost the CA it held, %q", after, before)
	}
	for _, trusted := range [][]byte{before, after} {
		code, resp := post(t, addr, trusted, request("{"))
		if code != http.StatusOK || resp.Status.Code != codes.InvalidArgument {
			t.Errorf("HTTP %d, %+v; want 200 InvalidArgument", code, resp.Status)
		}
	}
}

// barrier holds the first n callers until all n have come.
type barrier struct {
	mu   sync.Mutex
	n    int
	all  chan struct{}
	came int
}

func (b *barrier) arrive() {
	b.mu.Lock()
	b.came++
	if b.came == b.n {
		close(b.all)
	}
	wait := b.came <= b.n
	b.mu.Unlock()
	if wait {
		select {
		case <-b.all:
		case <-time.After(10 * time.Second):
		}
	}
}

// racingKube makes the first Gets of the Secret wait for each other, so
// that two replicas both read it empty and both write it.
type racingKube struct {
	kubernetes.Interface
	b *barrier
}

func (k racingKube) CoreV1() corev1client.CoreV1Interface {
	return racingCore{CoreV1Interface: k.Interface.CoreV1(), b: k.b}
}

type racingCore struct {
	corev1client.CoreV1Interface
	b *barrier
}

func (c racingCore) Secrets(ns string) corev1client.SecretInterface {
	return racingSecrets{SecretInterface: c.CoreV1Interface.Secrets(ns), b: c.b}
}

type racingSecrets struct {
	corev1client.SecretInterface
	b *barrier
}

func (s racingSecrets) Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Secret, error) {
	sec, err := s.SecretInterface.Get(ctx, name, opts)
	s.b.arrive()
	return sec, err
}

// TestServe_TwoReplicasConverge: two replicas start on one empty Secret
// and both write a certificate; the API server takes one (optimistic
// concurrency) and the other reads it again and serves the same.
func TestServe_TwoReplicasConverge(t *testing.T) {
	kube := kubefake.NewSimpleClientset(tlsSecret(nil))
	withResourceVersions(kube)
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	racing := racingKube{Interface: kube, b: &barrier{n: 2, all: make(chan struct{})}}
	log, logs := recordLog(t)
	addrs := []string{
		launch(t, secretServer(t, newFixture(t), racing, triggers, log)),
		launch(t, secretServer(t, newFixture(t), racing, triggers, log)),
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(waitCABundle(t, triggers))
	var served []string
	for _, addr := range addrs {
		// A replica listens before it serves: wait for its certificate.
		var cert *x509.Certificate
		err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			var err error
			cert, err = handshake(addr, pool, time.Now)
			return err == nil, nil
		})
		if err != nil {
			t.Fatalf("connecting to %s: %v", addr, err)
		}
		served = append(served, cert.SerialNumber.Text(16))
	}
	sec, err := kube.CoreV1().Secrets(testNamespace).Get(context.Background(), testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sec.Data[keyServerCert])
	inSecret, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	want := inSecret.SerialNumber.Text(16)
	if diff := cmp.Diff([]string{want, want}, served); diff != "" {
		t.Errorf("serials served by the two replicas, against the Secret's (-want +got):\n%s", diff)
	}
	if sec.ResourceVersion != "2" {
		t.Errorf("the Secret was written %s times, want once (resourceVersion 2)", sec.ResourceVersion)
	}
	lost := logs.matching(func(l string) bool { return strings.Contains(l, "changed under this replica") })
	if diff := cmp.Diff([]string{"INFO the certificate Secret changed under this replica; reading it again secret=autox/autox-interceptor-tls"}, lost); diff != "" {
		t.Errorf("the replica that lost the write (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string(nil), logs.warnings()); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
