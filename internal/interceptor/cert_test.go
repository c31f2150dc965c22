// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	triggersfake "github.com/tektoncd/triggers/pkg/client/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	certresources "knative.dev/pkg/webhook/certificates/resources"

	"github.com/autox-tekton/autox/internal/badinput"
)

var (
	certT0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// withResourceVersions makes the fake API server's Secret updates
// optimistic, as the real one's: an update must carry the
// resourceVersion stored, or it is a Conflict.
func withResourceVersions(kube *kubefake.Clientset) {
	var mu sync.Mutex
	gvr := corev1.SchemeGroupVersion.WithResource("secrets")
	kube.PrependReactor("update", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		sec := a.(k8stesting.UpdateAction).GetObject().(*corev1.Secret).DeepCopy()
		stored, err := kube.Tracker().Get(gvr, sec.Namespace, sec.Name)
		if err != nil {
			return true, nil, err
		}
		rv := stored.(*corev1.Secret).ResourceVersion
		if sec.ResourceVersion != rv {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, sec.Name, errors.New("the object has been modified"))
		}
		n, _ := strconv.Atoi(rv)
		sec.ResourceVersion = strconv.Itoa(n + 1)
		return true, sec, kube.Tracker().Update(gvr, sec, sec.Namespace)
	})
}

func tlsSecret(data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: testSecret, Namespace: testNamespace, ResourceVersion: "1"}, Data: data}
}

// logLines records the warnings and errors logged, and passes every line
// to t.Log.
type logLines struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func recordLog(t testing.TB) (*slog.Logger, *logLines) {
	l := &logLines{t: t}
	return slog.New(l), l
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	l.t.Log(line)
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}

// warnings are the lines at level WARN and above.
func (l *logLines) warnings() []string {
	return l.matching(func(line string) bool { return !strings.HasPrefix(line, "INFO ") && !strings.HasPrefix(line, "DEBUG ") })
}

func (l *logLines) matching(keep func(string) bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if keep(line) {
			out = append(out, line)
		}
	}
	return out
}

// tlsServe serves handshakes only, with getCert, until the test ends.
func tlsServe(t *testing.T, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = tls.Server(conn, &tls.Config{GetCertificate: getCert}).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// handshake connects as the EventListener does, trusting pool as of now,
// and returns the certificate the server presented.
func handshake(addr string, pool *x509.CertPool, now func() time.Time) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{
		RootCAs: pool, ServerName: testService + "." + testNamespace + ".svc", Time: now,
	})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// TestCertSecret_RotatesWithoutLosingEvents runs two replicas on one
// Secret for 6 minutes of a fake clock with a 2-minute lifetime, and an
// EventListener that, as Triggers' does, adds the caBundle to its trust
// pool at start and then once a minute (never removing a CA). Each second
// it connects to both replicas: every connection must verify, across
// every rotation, whatever the phase of the EventListener's minute.
func TestCertSecret_RotatesWithoutLosingEvents(t *testing.T) {
	names := dnsNames(testService, testNamespace)
	triggersCert := func(t *testing.T) (map[string][]byte, []byte) {
		key, cert, ca, err := certresources.CreateCerts(context.Background(), testService, testNamespace, time.Now().Add(100*365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return map[string][]byte{keyServerKey: key, keyServerCert: cert, keyCABundle: ca}, ca
	}
	for _, tc := range []struct {
		name string
		// start is the Secret's data and the caBundle at start.
		start   func(t *testing.T) (map[string][]byte, []byte)
		elPhase time.Duration
		// wantFirstLifetime is how long the first certificate served
		// lives (0: not checked).
		wantFirstLifetime time.Duration
		// tamper is what the Secret's data is overwritten with, by second.
		tamper       map[int]map[string][]byte
		wantWarnings []string
	}{
		{name: "from an empty Secret, the EventListener's minute in phase", start: func(*testing.T) (map[string][]byte, []byte) { return nil, nil },
			wantFirstLifetime: 2 * time.Minute},
		{name: "from an empty Secret, the EventListener's minute 59s later", start: func(*testing.T) (map[string][]byte, []byte) { return nil, nil },
			elPhase: 59 * time.Second, wantFirstLifetime: 2 * time.Minute},
		{name: "from Triggers' 100-year certificate, replaced without a gap", start: triggersCert,
			elPhase: 30 * time.Second},
		{name: "overwritten with garbage at 100s, emptied at 250s", start: func(*testing.T) (map[string][]byte, []byte) { return nil, nil },
			elPhase: 20 * time.Second, wantFirstLifetime: 2 * time.Minute,
			tamper: map[int]map[string][]byte{100: {keyServerCert: []byte("garbage"), keyServerKey: []byte("garbage"), keyCABundle: []byte("garbage")}, 250: nil},
			wantWarnings: []string{
				"WARN the certificate Secret holds no usable certificate (ca-cert.pem holds something that is not PEM); writing back the one served, and a new one to serve once its CA has been in the caBundle for 1m10s secret=autox/autox-interceptor-tls",
				"WARN the certificate Secret holds no usable certificate (it is empty); writing back the one served, and a new one to serve once its CA has been in the caBundle for 1m10s secret=autox/autox-interceptor-tls",
				// Written back with 30s left, it expired before the new
				// CA had been in the caBundle for 70s (the EventListener
				// had read it 10s after it was written).
				"WARN the served certificate is unusable (the certificate expired at <time>); serving the next one early secret=autox/autox-interceptor-tls",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// Now, as Triggers' certificate is made with the real clock.
			t0 := time.Now().Truncate(time.Second)
			clk := clocktesting.NewFakeClock(t0)
			data, caBundle := tc.start(t)
			kube := kubefake.NewSimpleClientset(tlsSecret(data))
			withResourceVersions(kube)
			ci := clusterInterceptor()
			ci.Spec.ClientConfig.CaBundle = caBundle
			triggers := triggersfake.NewSimpleClientset(ci)
			log, warnings := recordLog(t)
			srv := &Server{Triggers: triggers.TriggersV1alpha1(), Log: log}
			var replicas []*certSecret
			var addrs []string
			for range 2 {
				cs := &certSecret{
					secrets: kube.CoreV1().Secrets(testNamespace), setCABundle: srv.setCABundle,
					namespace: testNamespace, name: testSecret, names: names,
					lifetime: 2 * time.Minute, refresh: time.Minute, clock: clk, log: log, ready: make(chan struct{}),
				}
				replicas = append(replicas, cs)
				addrs = append(addrs, tlsServe(t, cs.getCertificate))
			}
			secret := func() *corev1.Secret {
				sec, err := kube.CoreV1().Secrets(testNamespace).Get(ctx, testSecret, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return sec
			}
			elPool := x509.NewCertPool()
			elRead := func() {
				ci, err := triggers.TriggersV1alpha1().ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				elPool.AppendCertsFromPEM(ci.Spec.ClientConfig.CaBundle)
			}

			next := make([]time.Time, len(replicas))
			seen := make([]string, len(replicas))
			var failures []string
			var served []*x509.Certificate
			for s := 0; s <= 360; s++ {
				clk.SetTime(t0.Add(time.Duration(s) * time.Second))
				if data, ok := tc.tamper[s]; ok {
					sec := secret()
					sec.Data = data
					if _, err := kube.CoreV1().Secrets(testNamespace).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				for i, cs := range replicas {
					// A replica steps when it said, and when its informer
					// sees the Secret change.
					if rv := secret().ResourceVersion; !clk.Now().Before(next[i]) || rv != seen[i] {
						next[i] = cs.step(ctx)
						seen[i] = secret().ResourceVersion
					}
				}
				if bundle, err := parseBundle(secret().Data[keyCABundle]); err != nil || len(bundle) > 4 {
					failures = append(failures, fmt.Sprintf("%3ds: ca-cert.pem holds %d CAs (%v), want 1 to 4", s, len(bundle), err))
				}
				if since := time.Duration(s)*time.Second - tc.elPhase; s == 0 || (since >= 0 && since%time.Minute == 0) {
					elRead()
				}
				for i, addr := range addrs {
					cert, err := handshake(addr, elPool, clk.Now)
					if err != nil {
						failures = append(failures, fmt.Sprintf("%3ds: replica %d: %v", s, i, err))
						continue
					}
					if len(served) == 0 || !served[len(served)-1].Equal(cert) {
						served = append(served, cert)
					}
				}
			}
			if diff := cmp.Diff([]string(nil), failures); diff != "" {
				t.Errorf("connections that failed (-want +got):\n%s", diff)
			}
			if len(served) < 5 {
				t.Errorf("%d certificates served in 6 minutes, want at least 5 (a new one every 80s)", len(served))
			}
			for i, c := range served {
				want := 2 * time.Minute
				if i == 0 {
					want = tc.wantFirstLifetime
				}
				if got := c.NotAfter.Sub(c.NotBefore); want != 0 && got != want {
					t.Errorf("certificate %d (serial %x) lives %s, want %s", i, c.SerialNumber, got, want)
				}
			}
			var got []string
			for _, w := range warnings.warnings() {
				got = append(got, rfc3339.ReplaceAllString(w, "<time>"))
			}
			if diff := cmp.Diff(tc.wantWarnings, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCertSecret_ReplacesGarbage: a Secret that holds no usable
// certificate gets a new one, with one warning that says why; nothing
// panics, and the new certificate is served and in the caBundle.
func TestCertSecret_ReplacesGarbage(t *testing.T) {
	names := dnsNames(testService, testNamespace)
	mk := func(t *testing.T, names []string, notBefore time.Time, lifetime time.Duration) issued {
		t.Helper()
		i, err := issue(names, notBefore, lifetime)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	good := mk(t, names, certT0.Add(-time.Hour), 24*time.Hour)
	other := mk(t, names, certT0.Add(-time.Hour), 24*time.Hour)
	expired := mk(t, names, certT0.Add(-2*time.Hour), time.Hour)
	otherNames := mk(t, dnsNames("someone-else", testNamespace), certT0.Add(-time.Hour), 24*time.Hour)
	bundle := func(i issued) []byte { return encodeBundle([]*x509.Certificate{i.ca}) }
	const replacing = "WARN the certificate Secret holds no usable certificate ("
	const after = "); replacing it with a new one, valid for 2m0s secret=autox/autox-interceptor-tls"
	for _, tc := range []struct {
		name string
		data map[string][]byte
		want string
	}{
		{"not PEM", map[string][]byte{keyServerKey: []byte("key"), keyServerCert: []byte("cert"), keyCABundle: []byte("ca")},
			"ca-cert.pem holds something that is not PEM"},
		{"a key of another certificate", map[string][]byte{keyServerKey: other.keyPEM, keyServerCert: good.certPEM, keyCABundle: bundle(good)},
			"the certificate and key do not make a pair: tls: private key does not match public key"},
		{"expired", map[string][]byte{keyServerKey: expired.keyPEM, keyServerCert: expired.certPEM, keyCABundle: bundle(expired)},
			"the certificate expired at 2026-03-01T11:00:00Z"},
		{"for another Service", map[string][]byte{keyServerKey: otherNames.keyPEM, keyServerCert: otherNames.certPEM, keyCABundle: bundle(otherNames)},
			"the certificate does not verify for autox-interceptor.autox.svc against ca-cert.pem: x509: certificate is valid for someone-else.autox.svc, someone-else.autox.svc.cluster.local, not autox-interceptor.autox.svc"},
		{"signed by a CA not in ca-cert.pem", map[string][]byte{keyServerKey: good.keyPEM, keyServerCert: good.certPEM, keyCABundle: bundle(other)},
			`the certificate does not verify for autox-interceptor.autox.svc against ca-cert.pem: x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "autox-interceptor.autox.svc CA")`},
		{"a ca-cert.pem that is not a CA", map[string][]byte{keyServerKey: good.keyPEM, keyServerCert: good.certPEM, keyCABundle: good.certPEM},
			`ca-cert.pem holds a certificate that is not a CA ("autox-interceptor.autox.svc")`},
		{"no key", map[string][]byte{keyServerCert: good.certPEM, keyCABundle: bundle(good)},
			"the certificate or its key is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clk := clocktesting.NewFakeClock(certT0)
			kube := kubefake.NewSimpleClientset(tlsSecret(tc.data))
			withResourceVersions(kube)
			triggers := triggersfake.NewSimpleClientset(clusterInterceptor())
			log, warnings := recordLog(t)
			srv := &Server{Triggers: triggers.TriggersV1alpha1(), Log: log}
			cs := &certSecret{
				secrets: kube.CoreV1().Secrets(testNamespace), setCABundle: srv.setCABundle,
				namespace: testNamespace, name: testSecret, names: names,
				lifetime: 2 * time.Minute, refresh: time.Minute, clock: clk, log: log, ready: make(chan struct{}),
			}
			cs.step(ctx)
			if diff := cmp.Diff([]string{replacing + tc.want + after}, warnings.warnings()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			sec, err := kube.CoreV1().Secrets(testNamespace).Get(ctx, testSecret, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ci, err := triggers.TriggersV1alpha1().ClusterInterceptors().Get(ctx, Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ci.Spec.ClientConfig.CaBundle, sec.Data[keyCABundle]) {
				t.Errorf("caBundle %q is not the Secret's ca-cert.pem %q", ci.Spec.ClientConfig.CaBundle, sec.Data[keyCABundle])
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(ci.Spec.ClientConfig.CaBundle)
			got, err := handshake(tlsServe(t, cs.getCertificate), pool, clk.Now)
			if err != nil {
				t.Fatalf("connecting with the new caBundle: %v", err)
			}
			if block, _ := pem.Decode(sec.Data[keyServerCert]); block == nil || !bytes.Equal(block.Bytes, got.Raw) {
				t.Error("the certificate served is not the Secret's")
			}
		})
	}
}

func TestConfig_CertProblems(t *testing.T) {
	base := Config{Addr: ":8443", MetricsAddr: ":9090", Identity: "i-0", CARefresh: time.Minute, Namespace: "autox", SecretName: "autox-interceptor-tls", ServiceName: "autox-interceptor", RunsNamespace: "autox"}
	for _, tc := range []struct {
		name         string
		lifetime     time.Duration
		maxBodyBytes int64
		wantErr      string
	}{
		{name: "the defaults (zero)"},
		{name: "one year and 16 MiB", lifetime: 365 * 24 * time.Hour, maxBodyBytes: 16 << 20},
		{name: "the shortest lifetime", lifetime: 90 * time.Second, maxBodyBytes: 1},
		{name: "over a year", lifetime: 365*24*time.Hour + time.Second,
			wantErr: "-cert-lifetime: 8760h0m1s is longer than one year; give at most 8760h (365 days), e.g. 2160h (90 days)"},
		{name: "under the EventListener's minute and more", lifetime: time.Minute,
			wantErr: "-cert-lifetime: 1m0s is shorter than 1m30s: the EventListener reads the caBundle once a minute, and each certificate must outlive the time its CA takes to reach it; give at least 1m30s"},
		{name: "negative", lifetime: -time.Hour,
			wantErr: "-cert-lifetime: -1h0m0s is negative; give a duration such as 2160h (90 days), at most 8760h (one year)"},
		{name: "a body limit over 16 MiB", maxBodyBytes: 64 << 20,
			wantErr: "-max-body-bytes: 67108864 is not between 1 and 16777216 (16 MiB; a body costs about 8 times its size in memory); give e.g. 1048576 (1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.CertLifetime, cfg.MaxBodyBytes = tc.lifetime, tc.maxBodyBytes
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				if !badinput.Is(err) {
					t.Errorf("%v is not bad input (exit 2)", err)
				}
			}
			if diff := cmp.Diff(tc.wantErr, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}
