// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// The Tekton side as users meet it: release.yaml applied with kubectl,
// the seed's experiments run as PipelineRuns of the autox Pipeline in the
// default namespace (the seed's URLs name it), which enforces the
// restricted Pod Security Standard for these tests.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/autox-tekton/autox/internal/kube"
	"github.com/autox-tekton/autox/internal/result"
)

var (
	pipelineRunsGVR = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	taskRunsGVR     = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
)

// seedNS is where the seed's tutorials deploy their apps: its URLs are
// http://httpbin.default/... and routeguide.default:50051.
const seedNS = "default"

// autoxNS is where autox's PipelineRuns run (and its Pipeline, Tasks and
// the runs' ServiceAccount are); systemNS is where release.yaml installs
// the controllers, the groups' Triggers and their records.
const (
	autoxNS  = "autox"
	systemNS = "autox-system"
)

var (
	setupOnce sync.Once
	setupErr  error
)

// installed applies release.yaml to the seed's namespace once per test
// binary, makes that namespace enforce the restricted Pod Security
// Standard, and deploys the sample apps there.
func installed(t *testing.T) *kube.Clients {
	t.Helper()
	if os.Getenv("KUBECONFIG") == "" {
		t.Fatal("KUBECONFIG is not set; run make e2e, which brings the cluster up")
	}
	c, err := kube.Connect(kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	setupOnce.Do(func() { setupErr = setUp(t) })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return c
}

func setUp(t *testing.T) error {
	step(t, "namespace %s enforces the restricted Pod Security Standard", seedNS)
	if out, err := kubectl(t, "", "label", "namespace", seedNS, "--overwrite",
		"pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/enforce-version=latest"); err != nil {
		return fmt.Errorf("labelling namespace %s: %v\n%s", seedNS, err, out)
	}
	step(t, "make release; kubectl apply -f release.yaml (namespace %s)", autoxNS)
	rel, err := releaseYAML(t)
	if err != nil {
		return err
	}
	if err := applyRetrying(t, 60*time.Second, "-f", rel); err != nil {
		return err
	}
	step(t, "autox may read in %s: RoleBindings autox-watched and autox-ready, as triggers/examples/ bind them", seedNS)
	rbac := filepath.Join(t.TempDir(), "rbac.yaml")
	if err := os.WriteFile(rbac, []byte(experimentRBAC), 0o644); err != nil {
		return err
	}
	if err := applyRetrying(t, 30*time.Second, "-n", seedNS, "-f", rbac); err != nil {
		return err
	}
	step(t, "deploy httpbin and routeguide in %s", seedNS)
	apps := filepath.Join(t.TempDir(), "apps.yaml")
	docs := seedApp(image(t, "httpbin"), "httpbin", 8080, 80, "") + "\n---\n" + seedApp(image(t, "routeguide"), "routeguide", 50051, 50051, "0.0.0.0:8080")
	if err := os.WriteFile(apps, []byte(docs), 0o644); err != nil {
		return err
	}
	if err := applyRetrying(t, 30*time.Second, "-n", seedNS, "-f", apps); err != nil {
		return err
	}
	for _, d := range []string{"httpbin", "routeguide"} {
		if out, err := kubectl(t, "", "-n", seedNS, "rollout", "status", "deploy/"+d, "--timeout=180s"); err != nil {
			return fmt.Errorf("deployment %s: %v\n%s", d, err, out)
		}
	}
	return nil
}

// seedApp is a sample app as a restricted-compliant Deployment and a
// Service; files, if set, is routeguide's -files-addr (served on 8080).
func seedApp(ref, name string, port, servicePort int, files string) string {
	args := fmt.Sprintf(`[-addr, "0.0.0.0:%d"]`, port)
	ports := fmt.Sprintf(`[{name: main, port: %d, targetPort: %d}]`, servicePort, port)
	if files != "" {
		args = fmt.Sprintf(`[-addr, "0.0.0.0:%d", -files-addr, %q]`, port, files)
		ports = fmt.Sprintf(`[{name: main, port: %d, targetPort: %d}, {name: files, port: 8080, targetPort: 8080}]`, servicePort, port)
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, labels: {app: %[1]s, app.kubernetes.io/version: "1.0.0"}}
spec:
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: %[1]s
        image: %[2]s
        args: %[3]s
        readinessProbe: {tcpSocket: {port: %[4]d}, periodSeconds: 1}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: %[1]s}
spec:
  selector: {app: %[1]s}
  ports: %[5]s
`, name, ref, args, port, ports)
}

// experimentRBAC is what triggers/examples/ (autox generate) have in the
// namespace of the watched objects: the watcher and the interceptor may
// read the trigger objects there (autox-watched), the runs' ServiceAccount
// what ready waits for (autox-ready); read-only, in that namespace only.
const experimentRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: autox-watched}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: autox-watched}
subjects: [{kind: ServiceAccount, name: autox-watcher, namespace: autox-system}, {kind: ServiceAccount, name: autox-interceptor, namespace: autox-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: autox-ready}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: autox-ready}
subjects: [{kind: ServiceAccount, name: autox, namespace: autox}]
`

// releaseYAML runs make release (our images by ko, pinned by digest, in
// the harness's registry) and returns the file it wrote.
func releaseYAML(t *testing.T) (string, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("make", "--no-print-directory", "release")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("make release: %v\n%s", err, out)
	}
	t.Logf("make release:\n%s", bytes.TrimSpace(out))
	return filepath.Join(root, "bin", "release.yaml"), nil
}

// applyRetrying runs kubectl apply until it succeeds or d passes: the
// first calls through Tekton's admission webhooks can be refused while
// the webhook starts serving.
func applyRetrying(t *testing.T, d time.Duration, args ...string) error {
	deadline := time.Now().Add(d)
	for {
		out, err := kubectl(t, "", append([]string{"apply", "--server-side", "--force-conflicts"}, args...)...)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kubectl apply %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(2 * time.Second)
	}
}

// pipelineRun is one finished PipelineRun, what its TaskRun says, and how
// long it and its load took.
type pipelineRun struct {
	name      string
	obj       *unstructured.Unstructured
	taskRun   *unstructured.Unstructured
	wall      time.Duration
	load      time.Duration
	succeeded bool
	reason    string
	message   string
}

// runExperiment creates a PipelineRun of the autox Pipeline with the
// experiment and waits up to 5 minutes for it to end.
func runExperiment(t *testing.T, c *kube.Clients, prefix, experimentYAML string) *pipelineRun {
	t.Helper()
	name := createRun(t, c, "autox", prefix, experimentYAML)
	r := &pipelineRun{name: name}
	waitFor(t, 5*time.Minute, "PipelineRun "+name, func() (bool, string) {
		obj, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		r.obj = obj
		status, reason, message := condition(obj)
		r.reason, r.message = reason, message
		r.succeeded = status == "True"
		return status == "True" || status == "False", fmt.Sprintf("%s %s: %s", status, reason, message)
	})
	r.wall = span(r.obj, "status", "startTime", "status", "completionTime")
	trs, err := c.Dynamic.Resource(taskRunsGVR).Namespace(autoxNS).List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + name + ",tekton.dev/pipelineTask=experiment"})
	if err != nil || len(trs.Items) != 1 {
		t.Fatalf("TaskRuns of %s: %v (%d found, want 1)", name, err, len(trs.Items))
	}
	r.taskRun = &trs.Items[0]
	steps, _, _ := unstructured.NestedSlice(r.taskRun.Object, "status", "steps")
	for _, s := range steps {
		m, _ := s.(map[string]any)
		if m["name"] == "http" || m["name"] == "grpc" {
			term, _, _ := unstructured.NestedMap(m, "terminated")
			if term != nil {
				r.load += span(&unstructured.Unstructured{Object: term}, "startedAt", "", "finishedAt", "")
			}
		}
	}
	t.Logf("e2e: PipelineRun %s: %s after %.1fs, load steps %.1fs, Tekton and the other steps %.1fs",
		name, r.reason, r.wall.Seconds(), r.load.Seconds(), (r.wall - r.load).Seconds())
	return r
}

// createRun creates a PipelineRun of pipeline (autox, autox-workers)
// with the experiment, labelled as group prefix, and returns its name.
func createRun(t *testing.T, c *kube.Clients, pipeline, prefix, experimentYAML string) string {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
		"metadata": map[string]any{"generateName": prefix + "-", "labels": map[string]any{
			"autox.dev/group": prefix, "autox.dev/spec": "e2e", "autox.dev/version": "1.0.0",
		}},
		"spec": map[string]any{
			"pipelineRef": map[string]any{"name": pipeline},
			"params": []any{
				map[string]any{"name": "experiment", "value": experimentYAML},
				map[string]any{"name": "namespace", "value": seedNS},
				map[string]any{"name": "group", "value": prefix},
				map[string]any{"name": "spec", "value": "e2e"},
				map[string]any{"name": "version", "value": "1.0.0"},
			},
			"taskRunTemplate": map[string]any{"serviceAccountName": "autox"},
		},
	}}
	created, err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the PipelineRun: %v", err)
	}
	step(t, "PipelineRun %s/%s (%s) created", autoxNS, created.GetName(), pipeline)
	return created.GetName()
}

// span is the time between two timestamps of obj (each given by a path of
// two keys; an empty second key means one key).
func span(obj *unstructured.Unstructured, a1, a2, b1, b2 string) time.Duration {
	get := func(k1, k2 string) time.Time {
		path := []string{k1}
		if k2 != "" {
			path = append(path, k2)
		}
		s, _, _ := unstructured.NestedString(obj.Object, path...)
		ts, _ := time.Parse(time.RFC3339, s)
		return ts
	}
	a, b := get(a1, a2), get(b1, b2)
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a)
}

// condition is obj's Succeeded condition.
func condition(obj *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Succeeded" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return status, reason, message
}

// results are the PipelineRun's results by name.
func (r *pipelineRun) results() map[string]string {
	out := map[string]string{}
	rs, _, _ := unstructured.NestedSlice(r.obj.Object, "status", "results")
	for _, x := range rs {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		v, _ := m["value"].(string)
		out[name] = v
	}
	return out
}

// tknLogs is what `tkn pipelinerun logs` shows of the run.
func tknLogs(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command(tkn(t), "pipelinerun", "logs", name, "-n", autoxNS).CombinedOutput()
	if err != nil {
		t.Fatalf("tkn pipelinerun logs %s: %v\n%s", name, err, out)
	}
	return string(out)
}

// storedResult is the result assess kept in the ConfigMap named after the run.
func storedResult(t *testing.T, c *kube.Clients, name string) *result.Result {
	t.Helper()
	cm, err := c.Kube.CoreV1().ConfigMaps(autoxNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the result ConfigMap %s: %v", name, err)
	}
	var r result.Result
	if err := json.Unmarshal([]byte(cm.Data["result.json"]), &r); err != nil {
		t.Fatalf("ConfigMap %s %s: %v", name, "result.json", err)
	}
	return &r
}

// reportMetrics reads the metric rows of a text report ("  name (unit) | 1.23").
func reportMetrics(report string) map[string]string {
	out := map[string]string{}
	for _, m := range reportRow.FindAllStringSubmatch(report, -1) {
		out[m[1]] = m[2]
	}
	return out
}

var reportRow = regexp.MustCompile(`(?m)^.*?  ((?:http|grpc)[^ |]*) (?:\([a-z]+\) *)?\| ([0-9.]+)\s*$`)

// httpbinCounts asks httpbin, through its Service, what reached it.
func httpbinCounts(t *testing.T, c *kube.Clients) map[string]int64 {
	t.Helper()
	svc, err := c.Kube.CoreV1().Services(seedNS).Get(context.Background(), "httpbin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + svc.Spec.ClusterIP + "/counts")
	if err != nil {
		t.Fatalf("httpbin /counts: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("httpbin /counts said %q: %v", b, err)
	}
	return m
}

const seedHTTP = `tasks: [ready, http, assess]
ready: {deploy: httpbin, service: httpbin, timeout: 60s}
http:
  numRequests: 200
  endpoints:
    get: {url: http://httpbin.default/get}
    getAnything: {url: http://httpbin.default/anything}
    post: {url: http://httpbin.default/post, payloadStr: hello}
assess:
  SLOs:
    upper:
      http-get/error-count: 0
      http-get/latency-mean: 50
      http-getAnything/error-count: 0
      http-getAnything/latency-mean: 75
      http-post/error-count: 0
      http-post/latency-mean: 100
`

// The seed fetched the proto and payloads from GitHub; this cluster has
// no way out, so the sample routeguide serves the same files.
const seedGRPC = `tasks: [ready, grpc, assess]
ready: {deploy: routeguide, service: routeguide, timeout: 60s}
grpc:
  host: routeguide.default:50051
  protoURL: http://routeguide.default:8080/route_guide.proto
  endpoints:
    getFeature:
      call: routeguide.RouteGuide.GetFeature
      dataURL: http://routeguide.default:8080/unary.json
    listFeatures:
      call: routeguide.RouteGuide.ListFeatures
      dataURL: http://routeguide.default:8080/server.json
assess:
  SLOs:
    upper:
      grpc-getFeature/error-count: 0
      grpc-getFeature/latency/mean: 50
      grpc-listFeatures/error-count: 0
      grpc-listFeatures/latency/mean: 100
`

func TestPipelineRunSeedExperiments(t *testing.T) {
	c := installed(t)
	for _, tc := range []struct {
		name, experiment string
		requests         map[string]float64
	}{
		{"seed-http", seedHTTP, map[string]float64{"http-get/request-count": 200, "http-getAnything/request-count": 200, "http-post/request-count": 200}},
		{"seed-grpc", seedGRPC, map[string]float64{"grpc-getFeature/request-count": 200, "grpc-listFeatures/request-count": 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runExperiment(t, c, tc.name, tc.experiment)
			logs := tknLogs(t, r.name)
			if !r.succeeded {
				t.Fatalf("PipelineRun %s: %s: %s\ntkn pipelinerun logs:\n%s", r.name, r.reason, r.message, logs)
			}
			if got := r.results()["slos-satisfied"]; got != "true" {
				t.Errorf("result slos-satisfied = %q, want true", got)
			}
			stored := storedResult(t, c, r.name)
			for m, want := range tc.requests {
				if got := stored.Metrics[m]; got != want {
					t.Errorf("stored %s = %v, want %v", m, got, want)
				}
			}
			// The ConfigMap holds the values the report in the logs shows.
			shown := reportMetrics(logs)
			if len(shown) < len(tc.requests)*5 {
				t.Errorf("tkn logs show %d metric rows, want the text report's:\n%s", len(shown), logs)
			}
			for m, s := range shown {
				v, ok := stored.Metrics[m]
				if !ok || strconv.FormatFloat(v, 'f', 2, 64) != s {
					t.Errorf("report shows %s = %s, ConfigMap holds %v (present %t)", m, s, v, ok)
				}
			}
			step(t, "delete PipelineRun %s: its ConfigMap goes with it", r.name)
			if err := c.Dynamic.Resource(pipelineRunsGVR).Namespace(autoxNS).Delete(context.Background(), r.name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 60*time.Second, "garbage collection of ConfigMap "+r.name, func() (bool, string) {
				_, err := c.Kube.CoreV1().ConfigMaps(autoxNS).Get(context.Background(), r.name, metav1.GetOptions{})
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
		})
	}
}

// TestPipelineRunFails: each way a run fails, in the step that should
// fail, with Tekton's message naming that step and the reason in its log.
// (Tekton v1.9.0 builds a failed TaskRun's message from the container's
// name, exit code and reason only, pkg/pod/status.go getFailureMessage;
// the violated SLOs are in the summary result and the ::error:: lines.)
func TestPipelineRunFails(t *testing.T) {
	c := installed(t)
	for _, tc := range []struct {
		name, experiment string
		// message is the TaskRun's; logs must hold each of these lines' parts.
		message string
		logs    []string
		summary string
		noLoad  bool
	}{{
		name: "impossible-slo",
		// The seed's, with fewer requests: 600 at 8/s take 75 s, and any
		// latency breaks this SLO.
		experiment: strings.NewReplacer("http-get/latency-mean: 50", "http-get/latency-mean: 0.001", "numRequests: 200", "numRequests: 16").Replace(seedHTTP),
		message:    `"step-assess" exited with code 1`,
		logs:       []string{"::error::", "http-get/latency-mean"},
		summary:    "FAIL http-get/latency-mean (msec) <= 0.001 (observed ",
	}, {
		name: "never-ready",
		experiment: `tasks: [ready, http, assess]
ready: {deploy: never-ready, timeout: 15s}
http: {numRequests: 20, url: http://httpbin.default/get}
`,
		// ready runs with onError: continue: it records the failure, http
		// sends nothing, and assess stores a result that says why, exit 3.
		message: `"step-assess" exited with code 3`,
		logs:    []string{"deployment default/never-ready: Available=False (MinimumReplicasUnavailable)", "after 15s", "http: no load sent: the ready task failed; assess reports it"},
		summary: "FAILED ready: not ready: deployment default/never-ready: Available=False (MinimumReplicasUnavailable)",
		noLoad:  true,
	}, {
		name:       "typo",
		experiment: strings.Replace(seedHTTP, "numRequests: 200", "numRequest: 200", 1),
		// ready says it first (exit 2, onError: continue); http finds the
		// same bad input and ends the TaskRun before any load.
		message: `"step-http" exited with code 2`,
		logs:    []string{`params.experiment: http.numRequest: unknown key; did you mean "numRequests"?`},
		noLoad:  true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "never-ready" {
				apply(t, c, seedNS, `apiVersion: apps/v1
kind: Deployment
metadata: {name: never-ready}
spec:
  selector: {matchLabels: {app: never-ready}}
  template:
    metadata: {labels: {app: never-ready}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: `+image(t, "httpbin")+`
        readinessProbe: {tcpSocket: {port: 9}, periodSeconds: 1}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`)
				t.Cleanup(func() { kubectl(t, "", "-n", seedNS, "delete", "deploy/never-ready", "--wait=false") })
			}
			before := httpbinCounts(t, c)
			r := runExperiment(t, c, tc.name, tc.experiment)
			logs := tknLogs(t, r.name)
			if r.succeeded {
				t.Fatalf("PipelineRun %s succeeded; want it Failed\n%s", r.name, logs)
			}
			if _, _, msg := condition(r.taskRun); !strings.HasPrefix(msg, tc.message) {
				t.Errorf("TaskRun message = %q, want it to start with %q", msg, tc.message)
			}
			for _, want := range tc.logs {
				if !strings.Contains(logs, want) {
					t.Errorf("tkn pipelinerun logs lack %q:\n%s", want, logs)
				}
			}
			if tc.summary != "" {
				if got := taskRunResults(r.taskRun)["summary"]; !strings.Contains(got, tc.summary) {
					t.Errorf("TaskRun result summary lacks %q:\n%s", tc.summary, got)
				}
				if got := taskRunResults(r.taskRun)["slos-satisfied"]; got != "false" {
					t.Errorf("TaskRun result slos-satisfied = %q, want false", got)
				}
				// What the README says of a failed run's own results: on
				// Tekton v1.10 and newer they are the failed task's.
				if failedRunsCarryResults(t) {
					if got := r.results()["summary"]; !strings.Contains(got, tc.summary) {
						t.Errorf("Tekton %s: PipelineRun result summary lacks %q:\n%s", tektonVersion(t), tc.summary, got)
					}
					if got := r.results()["slos-satisfied"]; got != "false" {
						t.Errorf("Tekton %s: PipelineRun result slos-satisfied = %q, want false", tektonVersion(t), got)
					}
				} else if got := r.results(); len(got) != 0 {
					t.Errorf("Tekton %s: the failed PipelineRun has results %v; the README says it has none before v1.10", tektonVersion(t), got)
				}
			}
			if tc.noLoad {
				if diff := cmp.Diff(before, httpbinCounts(t, c)); diff != "" {
					t.Errorf("httpbin saw requests (-before +after):\n%s", diff)
				}
			}
		})
	}
}

// taskRunResults are a TaskRun's results by name.
func taskRunResults(tr *unstructured.Unstructured) map[string]string {
	return (&pipelineRun{obj: tr}).results()
}

// TestServiceAccountRights: every autox ServiceAccount may do what its
// part needs, where it needs it, and nothing more: a table of kubectl auth
// can-i, each yes and each no (the table triggers/README.md shows).
func TestServiceAccountRights(t *testing.T) {
	installed(t)
	const (
		runs        = "system:serviceaccount:autox:autox"
		listener    = "system:serviceaccount:autox-system:autox-eventlistener"
		interceptor = "system:serviceaccount:autox-system:autox-interceptor"
		watcher     = "system:serviceaccount:autox-system:autox-watcher"
	)
	rows := []struct {
		as, ns, verb, resource, want string
	}{
		// The runs (ready, assess, notify): read-only where a RoleBinding
		// autox-ready says, result ConfigMaps in autox; nothing else.
		{runs, seedNS, "watch", "deployments.apps", "yes"},
		{runs, seedNS, "list", "endpointslices.discovery.k8s.io", "yes"},
		{runs, seedNS, "get", "pods", "yes"},
		{runs, seedNS, "create", "configmaps", "no"},
		{runs, seedNS, "update", "configmaps", "no"},
		{runs, seedNS, "delete", "pods", "no"},
		{runs, seedNS, "get", "secrets", "no"},
		{runs, autoxNS, "create", "configmaps", "yes"},
		{runs, autoxNS, "update", "configmaps", "yes"},
		{runs, autoxNS, "delete", "configmaps", "no"},
		{runs, autoxNS, "get", "secrets", "no"},
		{runs, autoxNS, "create", "pods", "no"},
		{runs, autoxNS, "create", "pipelineruns.tekton.dev", "no"},
		{runs, autoxNS, "patch", "pipelineruns.tekton.dev", "no"},
		// ... and get (only) the histories in autox-system: the baselines.
		{runs, systemNS, "get", "configmaps", "yes"},
		{runs, systemNS, "list", "configmaps", "no"},
		{runs, systemNS, "update", "configmaps", "no"},
		{runs, systemNS, "create", "triggers.triggers.tekton.dev", "no"},
		{runs, "kube-system", "watch", "deployments.apps", "no"},
		{runs, "kube-system", "create", "configmaps", "no"},
		// The EventListener: reads its Triggers objects, makes runs in
		// autox, nothing else there.
		{listener, systemNS, "list", "triggers.triggers.tekton.dev", "yes"},
		{listener, systemNS, "create", "triggers.triggers.tekton.dev", "no"},
		{listener, autoxNS, "create", "pipelineruns.tekton.dev", "yes"},
		{listener, autoxNS, "patch", "pipelineruns.tekton.dev", "no"},
		{listener, autoxNS, "create", "taskruns.tekton.dev", "no"},
		{listener, systemNS, "create", "pipelineruns.tekton.dev", "no"},
		{listener, seedNS, "create", "pipelineruns.tekton.dev", "no"},
		{listener, autoxNS, "get", "secrets", "no"},
		{listener, systemNS, "get", "secrets", "no"},
		{listener, seedNS, "list", "deployments.apps", "no"},
		// The interceptor: Triggers, records and its Lease in autox-system,
		// its one Secret; reads and cancels runs in autox; reads the
		// trigger objects where autox-watched is bound.
		{interceptor, systemNS, "list", "triggers.triggers.tekton.dev", "yes"},
		{interceptor, systemNS, "update", "configmaps", "yes"},
		{interceptor, systemNS, "update", "leases.coordination.k8s.io", "yes"},
		{interceptor, systemNS, "update", "secrets/autox-interceptor-tls", "yes"},
		{interceptor, systemNS, "get", "secrets/other", "no"},
		{interceptor, systemNS, "create", "triggers.triggers.tekton.dev", "no"},
		{interceptor, autoxNS, "patch", "pipelineruns.tekton.dev", "yes"},
		{interceptor, autoxNS, "delete", "pods", "yes"},
		{interceptor, autoxNS, "create", "pipelineruns.tekton.dev", "no"},
		{interceptor, autoxNS, "update", "configmaps", "no"},
		{interceptor, autoxNS, "get", "configmaps", "yes"},
		{interceptor, autoxNS, "list", "configmaps", "no"},
		{interceptor, autoxNS, "get", "secrets", "no"},
		{interceptor, seedNS, "patch", "pipelineruns.tekton.dev", "no"},
		{interceptor, seedNS, "watch", "deployments.apps", "yes"},
		{interceptor, seedNS, "patch", "deployments.apps", "no"},
		{interceptor, "kube-system", "watch", "deployments.apps", "no"},
		{interceptor, "", "update", "clusterinterceptors.triggers.tekton.dev/autox", "yes"},
		{interceptor, "", "update", "clusterinterceptors.triggers.tekton.dev/other", "no"},
		// The watcher: reads Triggers and records, its Lease; watches the
		// trigger objects where autox-watched is bound; writes nothing else.
		{watcher, systemNS, "watch", "triggers.triggers.tekton.dev", "yes"},
		{watcher, systemNS, "watch", "configmaps", "yes"},
		{watcher, systemNS, "update", "configmaps", "no"},
		{watcher, systemNS, "update", "leases.coordination.k8s.io", "yes"},
		{watcher, systemNS, "get", "secrets", "no"},
		{watcher, seedNS, "watch", "deployments.apps", "yes"},
		{watcher, seedNS, "update", "deployments.apps", "no"},
		{watcher, "kube-system", "watch", "deployments.apps", "no"},
		{watcher, autoxNS, "list", "pipelineruns.tekton.dev", "no"},
	}
	var table strings.Builder
	for _, r := range rows {
		args := []string{"auth", "can-i", "--as=" + r.as}
		if r.ns != "" {
			args = append(args, "-n", r.ns)
		}
		out, _ := kubectl(t, "", append(args, r.verb, r.resource)...)
		// kubectl warns first of a cluster-scoped resource asked about in
		// its current namespace; the answer is the last line.
		out = out[strings.LastIndex(out, "\n")+1:]
		where := r.ns
		if where == "" {
			where = "(cluster)"
		}
		fmt.Fprintf(&table, "  %-58s %-12s %-6s %-46s %s\n", r.as, where, r.verb, r.resource, out)
		if out != r.want {
			t.Errorf("kubectl auth can-i --as=%s -n %q %s %s = %q, want %q", r.as, r.ns, r.verb, r.resource, out, r.want)
		}
	}
	t.Logf("e2e: kubectl auth can-i, every autox ServiceAccount:\n%s", table.String())
}
