// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/result"
	"github.com/autox-tekton/autox/internal/slo"
)

func sample(t *testing.T) *result.Result {
	t.Helper()
	spec, err := experiment.Parse([]byte("tasks: [http, assess]\nhttp: {url: http://httpbin.default/get}\nassess: {SLOs: {upper: {http/error-count: 0}}}\n"), "e")
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	return &result.Result{
		Version: result.Version, Completed: true, SLOsSatisfied: true,
		Metrics: map[string]float64{"http/error-count": 0},
		SLOs:    []slo.Verdict{{Metric: "http/error-count", Bound: slo.Upper, Value: &zero, Satisfied: true}},
		Endpoints: []result.Endpoint{{
			Task: "http", Prefix: "http", Target: "http://httpbin.default/get", RequestCount: 100,
			Errors:    map[string]int64{"boom": 1},
			Histogram: []metrics.Bucket{{}},
			Latency:   "HISTFAAAA",
		}},
		Spec: spec,
	}
}

var prTarget = Target{Namespace: "team", Owner: Owner{Kind: KindPipelineRun, Name: "autox-httpbin-iter8-1a2b", UID: "uid-1"}, Group: "httpbin", Spec: "iter8", Version: "2.0.0", Name: "httpbin"}

// TestSave: the ConfigMap's name, owner, labels and data; a second save
// (a retried step) replaces the first.
func TestSave(t *testing.T) {
	// The labels of the ConfigMap of prTarget: the run's, autox.dev/* for
	// the test, app.kubernetes.io/* for autox.
	prLabels := map[string]string{
		"autox.dev/group": "httpbin", "autox.dev/spec": "iter8", "autox.dev/version": "2.0.0", "autox.dev/name": "httpbin",
		"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1",
	}
	withoutName := prTarget
	withoutName.Name = ""
	for _, tc := range []struct {
		name       string
		target     Target
		existing   []corev1.ConfigMap
		wantLabels map[string]string
	}{
		{"a PipelineRun's", prTarget, nil, prLabels},
		{"a run made by hand, no name given", withoutName, nil, map[string]string{
			"autox.dev/group": "httpbin", "autox.dev/spec": "iter8", "autox.dev/version": "2.0.0",
			"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1",
		}},
		{"a bare TaskRun's, no labels given", Target{Namespace: "team", Owner: Owner{Kind: KindTaskRun, Name: "run-1", UID: "uid-2"}}, nil,
			map[string]string{"app.kubernetes.io/part-of": "autox", "app.kubernetes.io/version": "0.1"}},
		{"replaces an earlier one", prTarget, []corev1.ConfigMap{{
			ObjectMeta: metav1.ObjectMeta{Name: prTarget.Owner.Name, Namespace: "team", Labels: map[string]string{"stale": "yes"}},
			Data:       map[string]string{"old": "x"},
		}}, prLabels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			for _, cm := range tc.existing {
				if _, err := client.CoreV1().ConfigMaps(cm.Namespace).Create(context.Background(), &cm, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			r := sample(t)
			saved, err := Store{ConfigMaps: client.CoreV1()}.Save(context.Background(), tc.target, r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := client.CoreV1().ConfigMaps("team").Get(context.Background(), tc.target.Owner.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := metav1.ObjectMeta{
				Name: tc.target.Owner.Name, Namespace: "team", Labels: tc.wantLabels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "tekton.dev/v1", Kind: tc.target.Owner.Kind, Name: tc.target.Owner.Name, UID: types.UID(tc.target.Owner.UID)}},
			}
			gotMeta := metav1.ObjectMeta{Name: got.Name, Namespace: got.Namespace, Labels: got.Labels, Annotations: got.Annotations, OwnerReferences: got.OwnerReferences}
			if diff := cmp.Diff(want, gotMeta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{DataKey}, keys(got.Data)); diff != "" {
				t.Errorf("data keys (-want +got):\n%s", diff)
			}
			var back result.Result
			if err := json.Unmarshal([]byte(got.Data[DataKey]), &back); err != nil {
				t.Fatalf("stored result.json does not decode: %v", err)
			}
			if diff := cmp.Diff(r, &back, cmpopts.IgnoreUnexported(experiment.Experiment{})); diff != "" {
				t.Errorf("stored result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(Saved{Name: tc.target.Owner.Name, Bytes: len(got.Data[DataKey])}, saved); diff != "" {
				t.Errorf("saved (-want +got):\n%s", diff)
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFit: a result too big for a ConfigMap loses its histograms first,
// then its error messages; metrics, verdicts and the spec stay.
func TestFit(t *testing.T) {
	big := func(latency, bars, errs int) *result.Result {
		r := sample(t)
		r.Endpoints[0].Latency = strings.Repeat("A", latency)
		r.Endpoints[0].Histogram = make([]metrics.Bucket, bars)
		r.Endpoints[0].Errors = map[string]int64{strings.Repeat("e", errs): 1}
		return r
	}
	const limit = 20000
	for _, tc := range []struct {
		name        string
		r           *result.Result
		wantDropped []string
		wantErr     string
	}{
		{"fits", big(1000, 30, 10), nil, ""},
		{"the HDR histogram goes", big(30000, 30, 10), []string{DroppedLatency}, ""},
		{"then the bars", big(30000, 1000, 10), []string{DroppedLatency, DroppedHistogram}, ""},
		{"then the error messages", big(30000, 1000, 30000), []string{DroppedLatency, DroppedHistogram, DroppedErrors}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := json.Marshal(tc.r)
			data, dropped, err := Fit(tc.r, limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantDropped, dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
			if len(data) > limit {
				t.Errorf("%d bytes, over the limit %d", len(data), limit)
			}
			var back result.Result
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.r.Metrics, back.Metrics); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.r.SLOs, back.SLOs); diff != "" {
				t.Errorf("SLOs (-want +got):\n%s", diff)
			}
			if after, _ := json.Marshal(tc.r); string(after) != string(before) {
				t.Error("Fit changed the result it was given")
			}
		})
	}
	t.Run("too big even so", func(t *testing.T) {
		r := big(10, 1, 10)
		r.Metrics[strings.Repeat("m", limit)] = 1
		_, _, err := Fit(r, limit)
		want := "the result is 20"
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "even without endpoints[].latency, endpoints[].histogram, endpoints[].errors; a ConfigMap holds 20000: shorten the experiment (its payloads are part of it) or the metric names") {
			t.Errorf("error %v", err)
		}
	})
}

// TestSaveDropsToFit: at the real limit, what was cut is recorded on the
// ConfigMap.
func TestSaveDropsToFit(t *testing.T) {
	client := fake.NewClientset()
	r := sample(t)
	r.Endpoints[0].Latency = strings.Repeat("A", MaxDataBytes)
	saved, err := Store{ConfigMaps: client.CoreV1()}.Save(context.Background(), prTarget, r)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := client.CoreV1().ConfigMaps("team").Get(context.Background(), prTarget.Owner.Name, metav1.GetOptions{})
	if diff := cmp.Diff(map[string]string{DroppedAnnotation: DroppedLatency}, got.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{DroppedLatency}, saved.Dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
}

// TestTargetValidate: bad flags are bad input, each named.
func TestTargetValidate(t *testing.T) {
	bad := Target{Namespace: "", Owner: Owner{Kind: KindPipelineRun, Name: "Bad_Name", UID: ""}, Group: "has space", Version: "2.0.0", Name: "httpbin\n"}
	want := strings.Join([]string{
		"-namespace: missing; name the namespace of the run",
		`-pipelinerun: "Bad_Name" is not a ConfigMap name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		"-pipelinerun-uid: missing; pass the run's uid ($(context.pipelineRun.uid)) so that the result is deleted with the run",
		`-group: "has space" is not a label value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
		`-name: "httpbin\n" is not a label value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
	}, "\n")
	err := bad.Validate()
	if err == nil || !badinput.Is(err) {
		t.Fatalf("error %v is not bad input", err)
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := prTarget.Validate(); err != nil {
		t.Errorf("a good target: %v", err)
	}
}
