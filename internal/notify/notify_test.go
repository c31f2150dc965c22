// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/outcome"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
	"github.com/autox-tekton/autox/internal/store"
)

const (
	runName = "autox-httpbin-iter8-1a2b"
	runUID  = "uid-1"
)

// receiver is a webhook on loopback that records what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	types  []string
}

func newReceiver(t *testing.T, status int, answer string) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, req.Method+" "+req.URL.Path+" "+string(b))
		r.types = append(r.types, req.Header.Get("Content-Type"))
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func (r *receiver) host() string {
	u, _ := url.Parse(r.URL)
	return u.Host
}

func ptr(f float64) *float64 { return &f }

// breach is a result with one SLO that holds, one that does not and one
// whose metric has no value.
func breach() *result.Result {
	return &result.Result{
		Version: result.Version, Completed: true,
		Metrics:    map[string]float64{"http-get/latency-mean": 73.21, "http-get/error-count": 0},
		MetricInfo: map[string]metrics.Info{"http-get/latency-mean": {Units: "msec"}, "http-dead/latency-mean": {Units: "msec"}},
		SLOs: []slo.Verdict{
			{Metric: "http-dead/latency-mean", Bound: slo.Upper, Limit: 50, Unavailable: "no requests got a response"},
			{Metric: "http-get/error-count", Bound: slo.Upper, Limit: 0, Value: ptr(0), Satisfied: true},
			{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 50, Value: ptr(73.21)},
		},
	}
}

func passing() *result.Result {
	return &result.Result{
		Version: result.Version, Completed: true, SLOsSatisfied: true,
		Metrics:    map[string]float64{"http-get/latency-mean": 4.612},
		MetricInfo: map[string]metrics.Info{"http-get/latency-mean": {Units: "msec"}},
		SLOs:       []slo.Verdict{{Metric: "http-get/latency-mean", Bound: slo.Upper, Limit: 50, Value: ptr(4.612), Satisfied: true}},
	}
}

// judged is a result whose one SLO holds, judged against baseline 1.0.0:
// its p99 regressed when regressed is true (p underflowed to 0), its mean
// within its limit, and an endpoint the baseline did not have.
func judged(regressed bool) *result.Result {
	r := passing()
	p99 := result.RegressionVerdict{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 16.29, Candidate: 16.8, Ratio: 1.0313, P: 0.2214, Slower: 0.52}
	if regressed {
		p99 = result.RegressionVerdict{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 16.29, Candidate: 37.15, Ratio: 2.2805, P: 0, Slower: 0.97, Regressed: true}
	}
	r.Regression = &result.Regression{Baseline: &result.Baseline{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b"}, Alpha: 0.01, Verdicts: []result.RegressionVerdict{
		{Metric: "http-get/latency-mean", MaxRatio: 1.1, Baseline: 4.5, Candidate: 4.612, Ratio: 1.0249, P: 0.3811, Slower: 0.51},
		p99,
		{Metric: "http-put/latency-p99", MaxRatio: 1.2, Unavailable: "the baseline has no endpoint http-put"},
	}}
	r.Regressed = regressed
	return r
}

func incomplete() *result.Result {
	return &result.Result{
		Version: result.Version, Failure: true,
		FailureReasons: []string{"http: no http metrics file: the http step did not finish"},
		Metrics:        map[string]float64{},
		SLOs:           []slo.Verdict{{Metric: "http-get/error-count", Bound: slo.Upper, Limit: 0, Unavailable: "no such metric"}},
	}
}

// cluster is a fake clientset holding r (if any) in the ConfigMap that
// assess writes, made by internal/store's own code.
func cluster(t *testing.T, r *result.Result) func() (corev1client.ConfigMapsGetter, error) {
	t.Helper()
	client := fake.NewClientset()
	if r != nil {
		target := store.Target{Namespace: "autox", Owner: store.Owner{Kind: store.KindPipelineRun, Name: runName, UID: runUID}, Group: "httpbin", Spec: "iter8", Version: "2.0.0"}
		if _, err := (store.Store{ConfigMaps: client.CoreV1()}).Save(context.Background(), target, r); err != nil {
			t.Fatal(err)
		}
	}
	return func() (corev1client.ConfigMapsGetter, error) { return client.CoreV1(), nil }
}

func noCluster(t *testing.T) func() (corev1client.ConfigMapsGetter, error) {
	return func() (corev1client.ConfigMapsGetter, error) {
		t.Error("notify connected to the cluster")
		return nil, errors.New("no cluster in this test")
	}
}

func config(webhook string, status Status) Config {
	return Config{
		URL: webhook, SecretKeys: []string{KeyURL},
		Run:   Run{Name: runName, Namespace: "autox", UID: runUID},
		Group: "httpbin", Spec: "iter8", Version: "2.0.0",
		Status: status,
	}
}

// How the experiment task ended, as Tekton passes it.
const (
	succeeded = iota
	failed
	cancelled
)

func status(how int) Status {
	return []Status{
		succeeded: {Experiment: StatusSucceeded, Reason: "Succeeded", Tasks: StatusSucceeded},
		failed:    {Experiment: StatusFailed, Reason: "Failed", Tasks: StatusFailed},
		cancelled: {Experiment: StatusFailed, Reason: ReasonCancelled, Tasks: StatusFailed},
	}[how]
}

type outputs struct{ stdout, log string }

func run(t *testing.T, n Notifier, cfg Config) (error, outputs) {
	t.Helper()
	var stdout, log bytes.Buffer
	n.Stdout, n.Log = &stdout, logging.New(&log, 0)
	err := n.Run(context.Background(), cfg)
	return err, outputs{stdout.String(), log.String()}
}

// TestSends: what the webhook receives, and what the step prints, for
// each way a run ends.
func TestSends(t *testing.T) {
	for _, tc := range []struct {
		name      string
		result    *result.Result
		status    Status
		template  string
		dashboard string
		wantBody  string
		wantText  string
	}{{
		name:      "a passing run, with a Dashboard link",
		result:    passing(),
		status:    status(succeeded),
		dashboard: "https://tekton.example.com/",
		wantBody:  `{"text":"*PASS* httpbin 2.0.0 (spec iter8): its one SLO holds\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `, \u003chttps://tekton.example.com/#/namespaces/autox/pipelineruns/autox-httpbin-iter8-1a2b|open it in the Tekton Dashboard\u003e\n"}`,
		wantText: "PASS httpbin 2.0.0 (spec iter8): its one SLO holds\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox, open it in the Tekton Dashboard: https://tekton.example.com/#/namespaces/autox/pipelineruns/autox-httpbin-iter8-1a2b\n",
	}, {
		name:     "an SLO breach, named from the result ConfigMap",
		result:   breach(),
		status:   status(failed),
		wantBody: `{"text":"*FAIL* httpbin 2.0.0 (spec iter8): 2 of 3 SLOs do not hold\n• http-dead/latency-mean (msec) \u0026lt;= 50: no value (no requests got a response)\n• http-get/latency-mean (msec) \u0026lt;= 50: observed 73.210\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "FAIL httpbin 2.0.0 (spec iter8): 2 of 3 SLOs do not hold\n" +
			"- http-dead/latency-mean (msec) <= 50: no value (no requests got a response)\n" +
			"- http-get/latency-mean (msec) <= 50: observed 73.210\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:   "an SLO breach, through a template",
		result: breach(),
		status: status(failed),
		template: `{"verdict": {{json .Verdict}}, "group": {{json .Group}}, "version": {{json .Version}}, "run": {{json .Run}}, "ns": {{json .Namespace}},
 "failing": [{{range $i, $f := .FailingSLOs}}{{if $i}}, {{end}}{"metric": {{json $f.Metric}}, "limit": {{$f.Limit}}, "observed": {{json $f.Observed}}}{{end}}],
 "summary": {{json .Summary}}, "link": {{json .DashboardURL}}}`,
		dashboard: "http://dashboard.local:9097",
		wantBody: `{"verdict": "FAIL", "group": "httpbin", "version": "2.0.0", "run": "autox-httpbin-iter8-1a2b", "ns": "autox",
 "failing": [{"metric": "http-dead/latency-mean", "limit": 50, "observed": null}, {"metric": "http-get/latency-mean", "limit": 50, "observed": 73.21}],
 "summary": "FAIL http-dead/latency-mean (msec) \u003c= 50 (unavailable: no requests got a response)\nPASS http-get/error-count \u003c= 0 (observed 0.000)\nFAIL http-get/latency-mean (msec) \u003c= 50 (observed 73.210)", "link": "http://dashboard.local:9097/#/namespaces/autox/pipelineruns/autox-httpbin-iter8-1a2b"}`,
		wantText: "FAIL httpbin 2.0.0 (spec iter8): 2 of 3 SLOs do not hold\n" +
			"- http-dead/latency-mean (msec) <= 50: no value (no requests got a response)\n" +
			"- http-get/latency-mean (msec) <= 50: observed 73.210\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox, open it in the Tekton Dashboard: http://dashboard.local:9097/#/namespaces/autox/pipelineruns/autox-httpbin-iter8-1a2b\n",
	}, {
		name:     "slower than the baseline: every SLO holds, a regression limit does not",
		result:   judged(true),
		status:   status(failed),
		wantBody: `{"text":"*FAIL* httpbin 2.0.0 (spec iter8): 1 of 3 regression limits does not hold (baseline 1.0.0)\n• no regression: http-get/latency-mean is 4.61 msec, 1.02x baseline 1.0.0's 4.50 msec (limit 1.10x, p = 0.381)\n• regression: http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p \u0026lt; 1e-300)\n• regression not judged: http-put/latency-p99: the baseline has no endpoint http-put\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "FAIL httpbin 2.0.0 (spec iter8): 1 of 3 regression limits does not hold (baseline 1.0.0)\n" +
			"- no regression: http-get/latency-mean is 4.61 msec, 1.02x baseline 1.0.0's 4.50 msec (limit 1.10x, p = 0.381)\n" +
			"- regression: http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p < 1e-300)\n" +
			"- regression not judged: http-put/latency-p99: the baseline has no endpoint http-put\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name: "an SLO breach and a regression",
		result: func() *result.Result {
			r := breach()
			r.Regression, r.Regressed = judged(true).Regression, true
			r.Regression.Verdicts = r.Regression.Verdicts[1:2]
			return r
		}(),
		status:   status(failed),
		wantBody: `{"text":"*FAIL* httpbin 2.0.0 (spec iter8): 2 of 3 SLOs do not hold; 1 of 1 regression limits does not hold (baseline 1.0.0)\n• http-dead/latency-mean (msec) \u0026lt;= 50: no value (no requests got a response)\n• http-get/latency-mean (msec) \u0026lt;= 50: observed 73.210\n• regression: http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p \u0026lt; 1e-300)\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "FAIL httpbin 2.0.0 (spec iter8): 2 of 3 SLOs do not hold; 1 of 1 regression limits does not hold (baseline 1.0.0)\n" +
			"- http-dead/latency-mean (msec) <= 50: no value (no requests got a response)\n" +
			"- http-get/latency-mean (msec) <= 50: observed 73.210\n" +
			"- regression: http-get/latency-p99 is 37.15 msec, 2.28x baseline 1.0.0's 16.29 msec (limit 1.10x, p < 1e-300)\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:   "within the baseline, through a template",
		result: judged(false),
		status: status(succeeded),
		template: `{"verdict": {{json .Verdict}}, "baseline": {{json .Baseline}}, "regressed": {{json .Regressed}},
 "judged": [{{range $i, $v := .Regressions}}{{if $i}}, {{end}}{"metric": {{json $v.Metric}}, "ratio": {{$v.Ratio}}, "p": {{$v.P}}, "regressed": {{$v.Regressed}}}{{end}}]}`,
		wantBody: `{"verdict": "PASS", "baseline": "1.0.0", "regressed": false,
 "judged": [{"metric": "http-get/latency-mean", "ratio": 1.0249, "p": 0.3811, "regressed": false}, {"metric": "http-get/latency-p99", "ratio": 1.0313, "p": 0.2214, "regressed": false}, {"metric": "http-put/latency-p99", "ratio": 0, "p": 0, "regressed": false}]}`,
		wantText: "PASS httpbin 2.0.0 (spec iter8): its one SLO holds\n" +
			"- no regression: http-get/latency-mean is 4.61 msec, 1.02x baseline 1.0.0's 4.50 msec (limit 1.10x, p = 0.381)\n" +
			"- no regression: http-get/latency-p99 is 16.80 msec, 1.03x baseline 1.0.0's 16.29 msec (limit 1.10x, p = 0.221)\n" +
			"- regression not judged: http-put/latency-p99: the baseline has no endpoint http-put\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name: "no baseline yet",
		result: func() *result.Result {
			r := passing()
			r.Regression = &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01}
			return r
		}(),
		status:   status(succeeded),
		template: `{"text": {{json .Text}}, "baseline": {{json .Baseline}}, "note": {{json .RegressionNote}}}`,
		wantBody: `{"text": "PASS httpbin 2.0.0 (spec iter8): its one SLO holds\n- regression not judged: no baseline: no earlier version of this group passed\nPipelineRun autox-httpbin-iter8-1a2b in namespace autox\n", "baseline": "", "note": "no baseline: no earlier version of this group passed"}`,
		wantText: "PASS httpbin 2.0.0 (spec iter8): its one SLO holds\n" +
			"- regression not judged: no baseline: no earlier version of this group passed\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:     "a cancelled run",
		status:   status(cancelled),
		wantBody: `{"text":"*CANCELLED* httpbin 2.0.0 (spec iter8): the experiment was cancelled before it ended\n• no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "CANCELLED httpbin 2.0.0 (spec iter8): the experiment was cancelled before it ended\n" +
			"- no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:     "a run that never started its experiment",
		status:   Status{Experiment: StatusNone, Tasks: StatusNone},
		template: `{"text": {{json .Text}}, "status": {{json .TaskStatus}}, "found": {{json .ResultFound}}}`,
		wantBody: `{"text": "CANCELLED httpbin 2.0.0 (spec iter8): the experiment did not run (the PipelineRun was cancelled or stopped first)\n- no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\nPipelineRun autox-httpbin-iter8-1a2b in namespace autox\n", "status": "None", "found": false}`,
		wantText: "CANCELLED httpbin 2.0.0 (spec iter8): the experiment did not run (the PipelineRun was cancelled or stopped first)\n" +
			"- no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:     "a missing result: the ready step failed",
		status:   status(failed),
		wantBody: `{"text":"*ERROR* httpbin 2.0.0 (spec iter8): the experiment task failed (Failed)\n• no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "ERROR httpbin 2.0.0 (spec iter8): the experiment task failed (Failed)\n" +
			"- no result: no ConfigMap autox/autox-httpbin-iter8-1a2b (the experiment ended before assess stored one)\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}, {
		name:     "a task that did not complete",
		result:   incomplete(),
		status:   status(failed),
		wantBody: `{"text":"*ERROR* httpbin 2.0.0 (spec iter8): the experiment did not complete\n• http-get/error-count \u0026lt;= 0: no value (no such metric)\n• task http: no http metrics file: the http step did not finish\n` + "PipelineRun `autox-httpbin-iter8-1a2b` in namespace `autox`" + `\n"}`,
		wantText: "ERROR httpbin 2.0.0 (spec iter8): the experiment did not complete\n" +
			"- http-get/error-count <= 0: no value (no such metric)\n" +
			"- task http: no http metrics file: the http step did not finish\n" +
			"PipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newReceiver(t, http.StatusOK, "ok")
			cfg := config(hook.URL+"/services/T0/B0/secret", tc.status)
			cfg.Template, cfg.DashboardURL = tc.template, tc.dashboard
			err, out := run(t, Notifier{ConfigMaps: cluster(t, tc.result)}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"POST /services/T0/B0/secret " + tc.wantBody}, hook.received()); diff != "" {
				t.Errorf("the webhook received (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"application/json"}, hook.types); diff != "" {
				t.Errorf("Content-Type (-want +got):\n%s", diff)
			}
			headline, _, _ := strings.Cut(tc.wantText, "\n")
			want := outputs{stdout: tc.wantText, log: "notification sent to the webhook at " + hook.host() + " (200 OK): " + headline + "\n"}
			if diff := cmp.Diff(want, out, cmp.AllowUnexported(outputs{})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWebhookRefuses: a webhook that refuses, cannot be reached or does
// not answer is a warning naming its host, never its URL, and the run's
// outcome does not change (nil: exit 0).
func TestWebhookRefuses(t *testing.T) {
	refusing := newReceiver(t, http.StatusNotFound, "no_service\n")
	// A port that nothing listens on: listen, note it, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); silent.Close() })
	silentHost := strings.TrimPrefix(silent.URL, "http://")
	redirect := newReceiver(t, http.StatusFound, "")

	for _, tc := range []struct {
		name, webhook, wantLog string
	}{
		{"404 with an answer", refusing.URL + "/services/secret",
			"::warning::notification not sent: the webhook at " + refusing.host() + " answered 404 Not Found (\"no_service\"); the run's outcome does not change\n"},
		{"a redirect is not a delivery", redirect.URL + "/services/secret",
			"::warning::notification not sent: the webhook at " + redirect.host() + " answered 302 Found; the run's outcome does not change\n"},
		{"connection refused", "http://" + closed + "/services/secret",
			"::warning::notification not sent: the webhook at " + closed + " could not be reached (dial tcp " + closed + ": connect: connection refused); the run's outcome does not change\n"},
		{"no answer in time", silent.URL + "/services/secret",
			"::warning::notification not sent: the webhook at " + silentHost + " gave no answer within 200ms; the run's outcome does not change\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, out := run(t, Notifier{ConfigMaps: cluster(t, passing()), Timeout: 200 * time.Millisecond}, config(tc.webhook, status(succeeded)))
			if err != nil {
				t.Fatalf("Run: %v; want nil (exit 0)", err)
			}
			want := outputs{
				stdout: "PASS httpbin 2.0.0 (spec iter8): its one SLO holds\nPipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
				log:    tc.wantLog,
			}
			if diff := cmp.Diff(want, out, cmp.AllowUnexported(outputs{})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if strings.Contains(out.log, "secret") {
				t.Errorf("the log shows the webhook's path: %s", out.log)
			}
		})
	}
}

// TestOff: without the Secret nothing is sent, the cluster is not asked,
// and the step says so in one line.
func TestOff(t *testing.T) {
	cfg := config("", status(succeeded))
	cfg.SecretKeys = nil
	err, out := run(t, Notifier{ConfigMaps: noCluster(t)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := outputs{log: "notifications are off: no Secret autox-notify in namespace autox; create it with the webhook URL in key url to turn them on\n"}
	if diff := cmp.Diff(want, out, cmp.AllowUnexported(outputs{})); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestBadInput: each bad setting is bad input (exit 2), named, with the
// fix, and nothing is sent; the webhook URL is never shown.
func TestBadInput(t *testing.T) {
	hook := newReceiver(t, http.StatusOK, "ok")
	good := hook.URL + "/services/secret"
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"a Secret without url", func(c *Config) { c.URL, c.SecretKeys = "", []string{"URL", "template"} },
			"Secret autox-notify: no key url (its keys: URL, template); add the webhook URL: kubectl create secret generic autox-notify -n autox --from-literal=url=https://hooks.slack.com/services/..."},
		{"a Secret with no keys", func(c *Config) { c.URL, c.SecretKeys = "", []string{} },
			"Secret autox-notify: no key url (its keys: none); add the webhook URL: kubectl create secret generic autox-notify -n autox --from-literal=url=https://hooks.slack.com/services/..."},
		{"an empty url", func(c *Config) { c.URL = "" },
			"Secret autox-notify, key url: empty; set it to the webhook URL, https://host/path"},
		{"a url that is not http(s)", func(c *Config) { c.URL = "hooks.slack.com/services/secret" },
			"Secret autox-notify, key url: not an http(s) URL (not shown: a webhook URL is a secret); write https://host/path"},
		{"a -url flag, no Secret", func(c *Config) { c.URL, c.SecretKeys = "ftp://x/secret", nil },
			"-url: not an http(s) URL (not shown: a webhook URL is a secret); write https://host/path"},
		{"a template that does not parse", func(c *Config) { c.Template = `{"text": {{json .Text}` },
			`Secret autox-notify, key template: does not parse: template: template:1: bad character U+007D '}'; fix the template (its data: the notify.Message fields, e.g. {{json .Text}})`},
		{"a template that does not run", func(c *Config) { c.Template = `{"text": {{json .Txt}}}` },
			`Secret autox-notify, key template: does not run: template: template:1:16: executing "template" at <.Txt>: can't evaluate field Txt in type notify.Message; fix the template (its data: the notify.Message fields, e.g. {{json .Text}})`},
		{"a template that renders no JSON", func(c *Config) { c.Template = `{"text": "{{.Text}}"}` },
			`Secret autox-notify, key template: renders a body that is not JSON; quote text with the json function, e.g. {"text": {{json .Text}}}`},
		{"a dashboard-url that is not http(s)", func(c *Config) { c.DashboardURL = "tekton.example.com" },
			`dashboard-url: "tekton.example.com" is not an http(s) URL; write the Tekton Dashboard's address, e.g. https://tekton.example.com, or "" for no link`},
		{"no run, no status", func(c *Config) { c.Run, c.Status = Run{}, Status{} },
			"-pipelinerun: missing; pass the PipelineRun's name ($(context.pipelineRun.name))\n" +
				"-namespace: missing; pass the PipelineRun's namespace ($(context.pipelineRun.namespace))\n" +
				`-experiment-status: "" is not Succeeded, Failed or None; pass $(tasks.experiment.status)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(good, status(failed))
			tc.change(&cfg)
			err, out := run(t, Notifier{ConfigMaps: noCluster(t)}, cfg)
			if !badinput.Is(err) || outcome.Code(err) != outcome.BadInput {
				t.Fatalf("Run: %v; want bad input (exit 2)", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if len(hook.received()) != 0 || out != (outputs{}) {
				t.Errorf("sent %v, printed %+v; want nothing", hook.received(), out)
			}
		})
	}
}

// TestStop: a stop while the webhook has not answered ends Run at once
// with an error (exit 3) that names the host only.
func TestStop(t *testing.T) {
	arrived := make(chan struct{})
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { close(arrived); <-hang }))
	t.Cleanup(func() { close(hang); silent.Close() })
	ctx, stop := context.WithCancelCause(context.Background())
	go func() { <-arrived; stop(errors.New("terminated signal received")) }()
	var stdout, log bytes.Buffer
	n := Notifier{ConfigMaps: cluster(t, passing()), Stdout: &stdout, Log: logging.New(&log, 0)}
	err := n.Run(ctx, config(silent.URL+"/services/secret", status(succeeded)))
	want := "stopped (terminated signal received) while sending the notification to the webhook at " + strings.TrimPrefix(silent.URL, "http://") + "; it may not have arrived"
	if err == nil || err.Error() != want || outcome.Code(err) != outcome.Failed {
		t.Errorf("Run: %v (exit %d); want %q (exit 3)", err, outcome.Code(err), want)
	}
}

// TestResultUnusable: a result ConfigMap that exists but cannot be used
// is a warning, and the message goes without it, saying why.
func TestResultUnusable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster func(*fake.Clientset)
		why     string
		without string // what the message goes without
	}{{
		name: "owned by another run of that name",
		cluster: func(c *fake.Clientset) {
			target := store.Target{Namespace: "autox", Owner: store.Owner{Kind: store.KindPipelineRun, Name: runName, UID: "uid-old"}}
			if _, err := (store.Store{ConfigMaps: c.CoreV1()}).Save(context.Background(), target, breach()); err != nil {
				t.Fatal(err)
			}
		},
		why:     "result ConfigMap autox/autox-httpbin-iter8-1a2b is not owned by PipelineRun autox/autox-httpbin-iter8-1a2b (owner uid uid-old, run uid uid-1); it was not written by this run: delete it",
		without: "it",
	}, {
		name: "forged: owned by nobody",
		cluster: func(c *fake.Clientset) {
			c.CoreV1().ConfigMaps("autox").Create(context.Background(), &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: runName, Namespace: "autox"}, Data: map[string]string{"result.json": `{"version": "autox.dev/result/v1"}`},
			}, metav1.CreateOptions{})
		},
		why:     "result ConfigMap autox/autox-httpbin-iter8-1a2b is not owned by PipelineRun autox/autox-httpbin-iter8-1a2b (it has no owner, run uid uid-1); it was not written by this run: delete it",
		without: "it",
	}, {
		name: "not an autox result",
		cluster: func(c *fake.Clientset) {
			c.CoreV1().ConfigMaps("autox").Create(context.Background(), &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: runName, Namespace: "autox", OwnerReferences: []metav1.OwnerReference{{Kind: store.KindPipelineRun, Name: runName, UID: "uid-1"}}},
				Data:       map[string]string{"result.json": `{"version": "v0"}`},
			}, metav1.CreateOptions{})
		},
		why:     `the result ConfigMap autox/autox-httpbin-iter8-1a2b (key result.json) is not an autox result: its version is "v0", this autox reads "autox.dev/result/v1"`,
		without: "it",
	}, {
		name: "not allowed to read it",
		cluster: func(c *fake.Clientset) {
			c.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, runName, errors.New("RBAC"))
			})
		},
		why:     `the result ConfigMap autox/autox-httpbin-iter8-1a2b could not be read: configmaps "autox-httpbin-iter8-1a2b" is forbidden: RBAC`,
		without: "the failing SLOs",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newReceiver(t, http.StatusOK, "ok")
			client := fake.NewClientset()
			tc.cluster(client)
			cms := func() (corev1client.ConfigMapsGetter, error) { return client.CoreV1(), nil }
			err, out := run(t, Notifier{ConfigMaps: cms}, config(hook.URL, status(failed)))
			if err != nil {
				t.Fatal(err)
			}
			want := outputs{
				stdout: "ERROR httpbin 2.0.0 (spec iter8): the experiment task failed (Failed)\n- no result: " + tc.why + "\nPipelineRun autox-httpbin-iter8-1a2b in namespace autox\n",
				log: "::warning::" + tc.why + "; the message goes without " + tc.without + "\n" +
					"notification sent to the webhook at " + hook.host() + " (200 OK): ERROR httpbin 2.0.0 (spec iter8): the experiment task failed (Failed)\n",
			}
			if diff := cmp.Diff(want, out, cmp.AllowUnexported(outputs{})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
