package interceptor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
	kubefake "k8s.io/client-go/kubernetes/fake"
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
	var caBundle []byte
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
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
	return ln.Addr().String(), caBundle
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
// of the API server: Triggers' helpers write a certificate into the
// (empty) Secret, the caBundle is set from it, and events posted over TLS
// through Triggers' server get the interceptor's answers, bad input
// included, never a 500.
func TestServe_SecretCertificate(t *testing.T) {
	t.Setenv("SYSTEM_NAMESPACE", testNamespace)
	t.Setenv("INTERCEPTOR_TLS_SECRET_NAME", testSecret)
	t.Setenv("INTERCEPTOR_TLS_SVC_NAME", testService)
	kube := kubefake.NewSimpleClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testSecret, Namespace: testNamespace}})
	triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
	f := newFixture(t)
	f.objects.both(dep("2.0.0"))
	f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 1,
		Runs: []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Running}}}, UID: "rec-1", ResourceVersion: "1"}
	f.records.rv = 1
	s := &Server{
		Interceptor: f.interceptor, Kube: kube, Triggers: triggers.TriggersV1alpha1(),
		Namespace: testNamespace, SecretName: testSecret, CARefresh: time.Minute,
		ReadTimeout: 5 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, ShutdownGrace: 5 * time.Second,
		Log: testLogger(t), Zap: zaptest.NewLogger(t).Sugar(),
	}
	addr, caBundle := startServer(t, s, triggers)

	secret, err := kube.CoreV1().Secrets(testNamespace).Get(context.Background(), testSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(secret.Data[certresources.CACert]), string(caBundle)); diff != "" {
		t.Errorf("caBundle against the Secret's CA (-want +got):\n%s", diff)
	}
	// Triggers' helpers list ClusterInterceptors; they must ask for autox
	// alone, so that RBAC can grant it by name.
	lists := 0
	for _, a := range triggers.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok {
			lists++
			if got := l.GetListRestrictions().Fields.String(); got != "metadata.name=autox" {
				t.Errorf("ClusterInterceptors listed with field selector %q, want metadata.name=autox", got)
			}
		}
	}
	if lists == 0 {
		t.Error("Triggers' CreateAndValidateCerts listed no ClusterInterceptor; did it run?")
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
