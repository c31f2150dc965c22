// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

// The interceptor bounded, on the cluster: a body too large is refused
// and it keeps serving; a Secret of garbage is replaced; a certificate
// with a short life is rotated while events keep flowing.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/autox-tekton/autox/internal/kube"
)

// interceptorClient calls one interceptor pod directly (pod IPs are
// reachable from this machine), verifying it as the EventListener does:
// against the ClusterInterceptor's caBundle, for the Service's name.
func interceptorClient(t *testing.T, c *kube.Clients) (*http.Client, string) {
	t.Helper()
	ca, _ := kubectl(t, "", "get", "clusterinterceptor", "autox", "-o", "jsonpath={.spec.clientConfig.caBundle}")
	pemCA, err := base64.StdEncoding.DecodeString(ca)
	if err != nil {
		t.Fatalf("caBundle: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		t.Fatalf("caBundle holds no certificate")
	}
	pods, err := c.Kube.CoreV1().Pods(systemNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=autox-interceptor"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("interceptor pods: %v (%d)", err, len(pods.Items))
	}
	ip := pods.Items[0].Status.PodIP
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "autox-interceptor." + systemNS + ".svc", MinVersion: tls.VersionTLS12},
	}}
	return client, "https://" + net.JoinHostPort(ip, "8443") + "/autox"
}

// TestInterceptorBodyCap: a 2 MiB event gets 413 and decides nothing; the
// interceptor keeps serving: the next request is answered and a label
// launches its run.
func TestInterceptorBodyCap(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	client, url := interceptorClient(t, c)
	big := bytes.Repeat([]byte(" "), 2<<20)
	copy(big, `{"body": "`)
	resp, err := client.Post(url, "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatalf("POST 2 MiB: %v", err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("e2e: a 2 MiB event: %s %s", resp.Status, strings.TrimSpace(string(msg)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB event got %s, want 413", resp.Status)
	}
	resp, err = client.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatalf("the request after: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode >= 500 {
		t.Errorf("a small request after the large one got %s", resp.Status)
	}
	n := len(runsOf(t, c, "light"))
	label(t, "light", "40.0.0")
	runs := waitRuns(t, c, "light", n+1, 30*time.Second)
	if v := version(runs[n]); v != "40.0.0" {
		t.Errorf("run %s tests %s, want 40.0.0", runs[n].GetName(), v)
	}
}

// caBundle is the ClusterInterceptor's caBundle as text.
func caBundle(t *testing.T) string {
	t.Helper()
	ca, _ := kubectl(t, "", "get", "clusterinterceptor", "autox", "-o", "jsonpath={.spec.clientConfig.caBundle}")
	return ca
}

// servingSerial is the serial of the certificate the Secret holds.
func servingSerial(t *testing.T, c *kube.Clients) string {
	t.Helper()
	sec, err := c.Kube.CoreV1().Secrets(systemNS).Get(context.Background(), "autox-interceptor-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sec.Data["server-cert.pem"])
	if block == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ""
	}
	return cert.SerialNumber.Text(16) + " until " + cert.NotAfter.UTC().Format(time.TimeOnly)
}

// TestInterceptorGarbageSecret: a certificate Secret rewritten with
// garbage is replaced by a fresh certificate, without a crash, and events
// flow again within a minute.
func TestInterceptorGarbageSecret(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	oldCA := caBundle(t)
	step(t, "write garbage into the interceptor's certificate Secret")
	garbage := base64.StdEncoding.EncodeToString([]byte("not a PEM block \x00\xff"))
	patch := fmt.Sprintf(`{"data":{"server-key.pem":%q,"server-cert.pem":%q,"ca-cert.pem":%q}}`, garbage, garbage, garbage)
	if _, err := c.Kube.CoreV1().Secrets(systemNS).Patch(context.Background(), "autox-interceptor-tls", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, 60*time.Second, "a new certificate and caBundle", func() (bool, string) {
		ca := caBundle(t)
		s := servingSerial(t, c)
		return ca != "" && ca != oldCA && s != "", fmt.Sprintf("caBundle changed %t, certificate %q", ca != oldCA, s)
	})
	n := len(runsOf(t, c, "light"))
	label(t, "light", "41.0.0")
	runs := waitRuns(t, c, "light", n+1, 60*time.Second)
	if v := version(runs[n]); v != "41.0.0" {
		t.Errorf("run %s tests %s, want 41.0.0", runs[n].GetName(), v)
	}
	t.Logf("e2e: garbage Secret: replaced and a run launched %.1fs after the garbage was written", time.Since(start).Seconds())
	out, _ := kubectl(t, "", "-n", systemNS, "get", "pods", "-l", "app.kubernetes.io/name=autox-interceptor", "-o", "jsonpath={range .items[*]}{.status.containerStatuses[0].restartCount}{\" \"}{end}")
	for _, r := range strings.Fields(out) {
		if r != "0" {
			t.Errorf("interceptor restarts %q, want none (no crash)", out)
			break
		}
	}
}

// TestInterceptorShortCertificate: with a 2-minute certificate lifetime
// the interceptor rotates its certificate (and CA) more than once in four
// minutes, and a label every 20 s through it gets its run: no event lost.
func TestInterceptorShortCertificate(t *testing.T) {
	c := triggersUp(t)
	light(t, c)
	args, _ := kubectl(t, "", "-n", systemNS, "get", "deploy/autox-interceptor", "-o", "jsonpath={.spec.template.spec.containers[0].args}")
	setArgs := func(extra ...string) {
		t.Helper()
		var a []string
		if err := jsonUnmarshal(args, &a); err != nil {
			t.Fatalf("args %q: %v", args, err)
		}
		a = append(a, extra...)
		p := fmt.Sprintf(`[{"op":"replace","path":"/spec/template/spec/containers/0/args","value":%s}]`, jsonString(a))
		if out, err := kubectl(t, "", "-n", systemNS, "patch", "deploy/autox-interceptor", "--type=json", "-p", p); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		waitRolledOut(t, "autox-interceptor")
	}
	renew := func() {
		t.Helper()
		old := caBundle(t)
		if _, err := c.Kube.CoreV1().Secrets(systemNS).Patch(context.Background(), "autox-interceptor-tls", types.JSONPatchType,
			[]byte(`[{"op":"remove","path":"/data"}]`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "a new caBundle", func() (bool, string) {
			ca := caBundle(t)
			return ca != "" && ca != old, fmt.Sprintf("%d bytes", len(ca))
		})
	}
	// settle waits until a label goes through: a certificate made from
	// nothing (no replica serving one) is served at once, and the
	// EventListener reads caBundles once a minute, so up to a minute of
	// events are refused and asked again by the watcher. That is the
	// install's first minute, not a rotation's.
	vers := 48
	settle := func() {
		t.Helper()
		vers++
		n := len(runsOf(t, c, "light"))
		start := time.Now()
		label(t, "light", fmt.Sprintf("%d.0.0", vers))
		waitRuns(t, c, "light", n+1, 150*time.Second)
		t.Logf("e2e: a fresh certificate: the first event through %.1fs after the label", time.Since(start).Seconds())
	}
	step(t, "run the interceptor with -cert-lifetime 2m, from a fresh certificate")
	setArgs("-cert-lifetime", "2m")
	t.Cleanup(func() {
		step(t, "back to the default lifetime, from a fresh certificate")
		setArgs()
		renew()
		settle()
	})
	renew()
	settle()
	serials := map[string]bool{servingSerial(t, c): true}
	bundles := map[string]bool{caBundle(t): true}
	var worst time.Duration
	for i := 0; i < 12; i++ {
		slot := time.Now()
		n := len(runsOf(t, c, "light"))
		v := fmt.Sprintf("%d.0.0", 60+i)
		label(t, "light", v)
		runs := waitRuns(t, c, "light", n+1, 30*time.Second)
		if got := version(runs[n]); got != v {
			t.Errorf("run %s tests %s, want %s", runs[n].GetName(), got, v)
		}
		if d := time.Since(slot); d > worst {
			worst = d
		}
		serials[servingSerial(t, c)] = true
		bundles[caBundle(t)] = true
		time.Sleep(time.Until(slot.Add(20 * time.Second)))
	}
	t.Logf("e2e: 2-minute certificates: %d labels over %s, each with its run (slowest %.1fs); %d certificates served, %d caBundles seen",
		12, (12 * 20 * time.Second).String(), worst.Seconds(), len(serials), len(bundles))
	if len(serials) < 3 {
		t.Errorf("%d certificates in 4 minutes of 2-minute certificates, want at least 3 (rotated twice): %v", len(serials), serials)
	}
	restarts, _ := kubectl(t, "", "-n", systemNS, "get", "pods", "-l", "app.kubernetes.io/name=autox-interceptor", "-o", "jsonpath={range .items[*]}{.status.containerStatuses[0].restartCount}{\" \"}{end}")
	for _, r := range strings.Fields(restarts) {
		if r != "0" {
			t.Errorf("interceptor restarts %q, want none", restarts)
			break
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
