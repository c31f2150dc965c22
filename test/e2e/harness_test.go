// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/autox-tekton/autox/internal/kube"
)

// restricted makes a namespace that enforces the restricted Pod Security
// Standard, as the e2e namespace of the experiment does, deleted when the
// test ends.
func restricted(t *testing.T) (*kube.Clients, string) {
	t.Helper()
	c, err := kube.Connect(kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("autox-restricted-%d", rand.IntN(1_000_000))
	step(t, "create namespace %s enforcing the restricted Pod Security Standard", ns)
	apply(t, c, "", `{apiVersion: v1, kind: Namespace, metadata: {name: `+ns+`, labels: {pod-security.kubernetes.io/enforce: restricted}}}`)
	t.Cleanup(func() {
		c.Kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	waitFor(t, 30*time.Second, "default ServiceAccount", func() (bool, string) {
		_, err := c.Kube.CoreV1().ServiceAccounts(ns).Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	return c, ns
}

// kubectl runs kubectl on the test cluster with stdin, as a user would.
func kubectl(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// nonRoot is a container security context that the restricted standard
// admits, for images that would run as root (busybox).
const nonRoot = `{runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}`

// TestTektonWebhookRefusesAStepWithoutImage: Tekton's own admission webhook
// runs in the cluster and checks what users apply.
func TestTektonWebhookRefusesAStepWithoutImage(t *testing.T) {
	_, ns := cluster(t)
	step(t, "kubectl apply a Task whose step has no image")
	out, err := kubectl(t, `apiVersion: tekton.dev/v1
kind: Task
metadata: {name: no-image}
spec:
  steps:
  - name: build
    command: [/bin/true]
`, "apply", "-n", ns, "-f", "-")
	want := `Error from server (BadRequest): error when creating "STDIN": admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: missing field(s): spec.steps[0].Image`
	if err == nil || out != want {
		t.Errorf("kubectl apply = %v, output:\n%s\nwant it refused with:\n%s", err, out, want)
	}
}

// podOutput waits for pod name in ns to end and returns its log.
func podOutput(t *testing.T, c *kube.Clients, ns, name string) string {
	t.Helper()
	waitFor(t, 2*time.Minute, "pod "+name, func() (bool, string) {
		p, err := c.Kube.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, string(p.Status.Phase)
	})
	b, err := c.Kube.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).Do(context.Background()).Raw()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDNSInsideTheCluster: in a restricted namespace, a pod resolves
// <service>.<namespace> through CoreDNS, as the seed's URLs
// (http://httpbin.default/get) need, and gets no answer for a name outside
// the cluster (CoreDNS forwards nowhere: nothing is sent off the machine,
// and nothing connects anywhere but to the Service).
func TestDNSInsideTheCluster(t *testing.T) {
	c, ns := restricted(t)
	step(t, "deploy httpbin (restricted) and its Service")
	apply(t, c, ns, `apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin}
spec:
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec:
      containers:
      - name: httpbin
        image: `+image(t, "httpbin")+`
        args: [-addr, "0.0.0.0:8080"]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        securityContext: `+nonRoot+`
---
apiVersion: v1
kind: Service
metadata: {name: httpbin}
spec:
  selector: {app: httpbin}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: experiment}
data:
  experiment.yaml: |
    tasks: [http]
    http: {url: "http://httpbin.`+ns+`/get", numRequests: 1}
`)
	svc, err := c.Kube.CoreV1().Services(ns).Get(context.Background(), "httpbin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "httpbin's endpoints", func() (bool, string) {
		d, err := c.Kube.AppsV1().Deployments(ns).Get(context.Background(), "httpbin", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Status.ReadyReplicas == 1, fmt.Sprintf("%d ready", d.Status.ReadyReplicas)
	})
	// Ready endpoints do not mean kube-proxy has programmed the Service
	// (ready's service wait checks the same way): until it has, the one
	// request below would be refused.
	waitFor(t, 30*time.Second, "httpbin's cluster IP to take connections", func() (bool, string) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "80"), time.Second)
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	})

	// Go's resolver, as our step programs use it: the namespace's search
	// domains complete httpbin.<ns>.
	step(t, "the http step's image sends one request to http://httpbin.%s/get", ns)
	apply(t, c, ns, `apiVersion: v1
kind: Pod
metadata: {name: get}
spec:
  restartPolicy: Never
  containers:
  - name: http
    image: `+image(t, "http")+`
    args: [-f, /exp/experiment.yaml, -dir, /out]
    securityContext: `+nonRoot+`
    volumeMounts: [{name: exp, mountPath: /exp}, {name: out, mountPath: /out}]
  volumes:
  - {name: exp, configMap: {name: experiment}}
  - {name: out, emptyDir: {}}
`)
	if out := podOutput(t, c, ns, "get"); !strings.Contains(out, "http: done, 1 requests, 0 errors") {
		t.Errorf("the http step did not reach http://httpbin.%s/get:\n%s", ns, out)
	}

	// busybox's nslookup sends the name as given (no search domains) to
	// the pod's one DNS server.
	step(t, "a pod looks up httpbin.%s.svc.cluster.local and example.com", ns)
	apply(t, c, ns, `apiVersion: v1
kind: Pod
metadata: {name: lookup}
spec:
  restartPolicy: Never
  containers:
  - name: lookup
    image: `+image(t, "busybox")+`
    command: [sh, -c, 'cat /etc/resolv.conf; nslookup httpbin.`+ns+`.svc.cluster.local; echo "status=$?"; nslookup example.com; echo "status=$?"']
    securityContext: `+nonRoot+`
`)
	out := podOutput(t, c, ns, "lookup")
	t.Logf("lookup's output:\n%s", out)
	inside, outside, ok := strings.Cut(out, "status=")
	if !ok {
		t.Fatalf("no status line in the pod's output:\n%s", out)
	}
	want := "search " + ns + ".svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
	if !strings.HasPrefix(inside, want) {
		t.Errorf("the pod's resolv.conf is not CoreDNS's Service alone; want:\n%s\ngot:\n%s", want, out)
	}
	if !strings.Contains(inside, "Address: "+svc.Spec.ClusterIP+"\n") || !strings.HasPrefix(outside, "0\n") {
		t.Errorf("httpbin.%s.svc.cluster.local did not resolve to %s:\n%s", ns, svc.Spec.ClusterIP, out)
	}
	if !regexp.MustCompile(`can't find example\.com: (SERVFAIL|NXDOMAIN|REFUSED)\n`).MatchString(outside) ||
		!strings.HasSuffix(strings.TrimSpace(outside), "status=1") {
		t.Errorf("example.com got an answer, or no SERVFAIL/NXDOMAIN/REFUSED:\n%s", out)
	}
}

// TestTaskRunInARestrictedNamespace: with Tekton's set-security-context
// flag (test/cluster/up.sh), a TaskRun's pod, Tekton's init containers
// included, passes the restricted Pod Security Standard and runs; tkn
// shows its log as users read it.
func TestTaskRunInARestrictedNamespace(t *testing.T) {
	_, ns := restricted(t)
	step(t, "run a one-step TaskRun in %s", ns)
	if out, err := kubectl(t, `apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: hello}
spec:
  taskSpec:
    steps:
    - name: hello
      image: `+image(t, "busybox")+`
      command: [echo, hello from a restricted namespace]
      securityContext: `+nonRoot+`
`, "apply", "-n", ns, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	var out string
	waitFor(t, 2*time.Minute, "TaskRun hello", func() (bool, string) {
		out, _ = kubectl(t, "", "get", "-n", ns, "taskrun", "hello", "-o", `jsonpath={.status.conditions[?(@.type=="Succeeded")].status} {.status.conditions[?(@.type=="Succeeded")].reason}: {.status.conditions[?(@.type=="Succeeded")].message}`)
		return strings.HasPrefix(out, "True ") || strings.HasPrefix(out, "False "), out
	})
	if !strings.HasPrefix(out, "True ") {
		t.Fatalf("TaskRun hello did not succeed: %s", out)
	}
	step(t, "tkn taskrun logs hello")
	cmd := exec.Command(tkn(t), "taskrun", "logs", "hello", "-n", ns)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	b, err := cmd.CombinedOutput()
	if want := "[hello] hello from a restricted namespace\n"; err != nil || !strings.Contains(string(b), want) {
		t.Errorf("tkn taskrun logs = %v, output:\n%s\nwant it to hold %q", err, b, want)
	}
}
