// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package watcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/objects"
)

var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	widgets     = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	t0          = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

// fakeAccess refuses what it lists; the rest may be watched.
type fakeAccess map[schema.GroupVersionResource]error

func (a fakeAccess) CanWatch(_ context.Context, r schema.GroupVersionResource, _ string) (string, error) {
	if err := a[r]; err != nil {
		return "", err
	}
	return map[string]string{"deployments": "Deployment", "configmaps": "ConfigMap", "triggers": "Trigger"}[r.Resource], nil
}

// lines is a log writer that hands each line to the test.
type lines chan string

func (l lines) Write(b []byte) (int, error) {
	l <- strings.TrimSuffix(string(b), "\n")
	return len(b), nil
}

// trigger is a group's Trigger as triggers/examples writes one, naming
// the Deployment object in namespace default.
func trigger(group, object string) *unstructured.Unstructured {
	name := contract.GroupName(group, "iter8")
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "triggers.tekton.dev/v1beta1",
		"kind":       "Trigger",
		"metadata": map[string]any{
			"name": name, "namespace": "autox", "uid": "uid-" + name,
			"labels": map[string]any{contract.GroupLabel: group, contract.SpecLabel: "iter8"},
		},
		"spec": map[string]any{"interceptors": []any{map[string]any{
			"ref": map[string]any{"name": "autox", "kind": "ClusterInterceptor"},
			"params": []any{
				map[string]any{"name": "group", "value": group},
				map[string]any{"name": "spec", "value": "iter8"},
				map[string]any{"name": "trigger", "value": map[string]any{"name": object, "namespace": "default", "group": "apps", "version": "v1", "resource": "deployments"}},
				map[string]any{"name": "experiment", "value": map[string]any{"tasks": []any{"assess"}}},
			},
		}}},
	}}
}

// deployment is a Deployment's metadata as the API server serves it,
// with what the watcher must not post (annotations, managedFields).
func deployment(name, resourceVersion, version string) *metav1.PartialObjectMetadata {
	labels := map[string]string{"app": name}
	if version != "" {
		labels[contract.VersionLabel] = version
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID("uid-" + name), ResourceVersion: resourceVersion, Labels: labels,
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"spec": "big"}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		},
	}
}

// record is the record of group/iter8 showing version of object launched
// and running.
func record(t *testing.T, group, object, version string) *corev1.ConfigMap {
	t.Helper()
	name := contract.GroupName(group, "iter8")
	rec := contract.Record{Group: group, Spec: "iter8", Trigger: name, TriggerUID: "uid-" + name, Seq: 1, Runs: []contract.Entry{{
		Seq: 1, Run: name + "-1", Version: version, ObjectUID: "uid-" + object, DecidedAt: t0, State: contract.Running,
	}}}
	cm, err := rec.ConfigMap("autox", "")
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// eventListener is an httptest EventListener that accepts every post and
// hands its body to the test.
type eventListener struct {
	posts chan string
}

func (el *eventListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	el.posts <- fmt.Sprintf("%s %s", r.Header.Get(contract.EventIDHeader), body)
	w.WriteHeader(http.StatusAccepted)
}

// harness is a watcher on fake clients, posting to an httptest
// EventListener, on a fake clock.
type harness struct {
	t       *testing.T
	w       *Watcher
	meta    *metadatafake.FakeMetadataClient
	kube    *kubefake.Clientset
	dyn     *dynamicfake.FakeDynamicClient
	clock   *clocktesting.FakeClock
	posts   chan string
	logs    lines
	watches chan string
	synced  chan struct{}
	done    chan error
	cancel  context.CancelFunc
	// read are the log lines logLine went past.
	read []string
}

func metaScheme() *runtime.Scheme {
	s := metadatafake.NewTestScheme()
	_ = metav1.AddMetaToScheme(s)
	return s
}

func newHarness(t *testing.T, access fakeAccess, triggers []*unstructured.Unstructured, objs []*metav1.PartialObjectMetadata, records []*corev1.ConfigMap) *harness {
	t.Helper()
	var trs []runtime.Object
	for _, tr := range triggers {
		trs = append(trs, tr)
	}
	var ms []runtime.Object
	for _, o := range objs {
		ms = append(ms, o)
	}
	var cms []runtime.Object
	for _, cm := range records {
		cms = append(cms, cm)
	}
	h := &harness{
		t:       t,
		dyn:     dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{contract.TriggersResource: "TriggerList"}, trs...),
		meta:    metadatafake.NewSimpleMetadataClient(metaScheme(), ms...),
		kube:    kubefake.NewClientset(cms...),
		clock:   clocktesting.NewFakeClock(t0),
		posts:   make(chan string, 100),
		logs:    make(lines, 100),
		watches: make(chan string, 100),
		synced:  make(chan struct{}, 10),
		done:    make(chan error, 1),
	}
	// The fakes serve a watch only from when it is asked for: changes made
	// between an informer's list and its watch would be lost, so the test
	// waits for the watches before changing anything.
	h.meta.PrependWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := h.meta.Tracker().Watch(action.GetResource(), action.GetNamespace())
		h.watches <- action.GetResource().Resource
		return true, w, err
	})
	h.kube.PrependWatchReactor("configmaps", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := h.kube.Tracker().Watch(action.GetResource(), action.GetNamespace())
		h.watches <- action.GetResource().Resource
		return true, w, err
	})
	srv := httptest.NewServer(&eventListener{posts: h.posts})
	t.Cleanup(srv.Close)
	log := logging.New(io.MultiWriter(h.logs, testWriter{t}), slog.LevelDebug)
	metrics := NewMetrics(prometheus.NewRegistry())
	h.w = &Watcher{
		Dynamic:   h.dyn,
		Kube:      h.kube,
		Objects:   &objects.Cache{Client: h.meta, Access: access, Log: log},
		Access:    access,
		Namespace: "autox",
		Clock:     h.clock,
		Poster:    NewPoster(srv.URL, srv.Client(), metrics, log),
		Metrics:   metrics,
		Log:       log,
	}
	h.w.Objects.Subscribe(func(c objects.Change) {
		if c.Type == objects.Synced {
			h.synced <- struct{}{}
		}
	})
	return h
}

// start runs the watcher and waits until it has read everything.
func (h *harness) start(informers int) {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.w.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-h.done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
	for range informers {
		h.wait(h.synced, "an informer of objects synced")
	}
	for range informers + 1 {
		h.wait(h.watches, "the watches")
	}
	h.logLine("leading: asking the interceptor")
}

func wait[T any](t *testing.T, ch chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
	var zero T
	return zero
}

func (h *harness) wait(ch any, what string) {
	h.t.Helper()
	switch c := ch.(type) {
	case chan struct{}:
		wait(h.t, c, what)
	case chan string:
		wait(h.t, c, what)
	}
}

// post waits for the next post: "<event id> <body>".
func (h *harness) post() string {
	h.t.Helper()
	return wait(h.t, h.posts, "post")
}

// logLine waits for a log line containing s, and returns it.
func (h *harness) logLine(s string) string {
	h.t.Helper()
	for {
		l := wait(h.t, h.logs, "log line containing "+s)
		h.read = append(h.read, l)
		if strings.Contains(l, s) {
			return l
		}
	}
}

func (h *harness) setObject(o *metav1.PartialObjectMetadata) {
	h.t.Helper()
	if err := h.meta.Tracker().Update(deployments, o, "default"); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) setRecord(cm *corev1.ConfigMap) {
	h.t.Helper()
	cms := h.kube.CoreV1().ConfigMaps("autox")
	if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{}); err == nil {
		return
	}
	if _, err := cms.Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// noMorePosts stops the watcher and checks nothing else was posted.
func (h *harness) noMorePosts() {
	h.t.Helper()
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.done <- nil
	select {
	case p := <-h.posts:
		h.t.Errorf("post not wanted: %s", p)
	default:
	}
}

// TestVersionChangePostsOneSmallEvent: the record shows 1.0.0; relabelled
// 2.0.0, the object is posted once, metadata only, naming the Trigger.
func TestVersionChangePostsOneSmallEvent(t *testing.T) {
	h := newHarness(t, fakeAccess{}, []*unstructured.Unstructured{trigger("httpbin", "httpbin")},
		[]*metav1.PartialObjectMetadata{deployment("httpbin", "1", "1.0.0")},
		[]*corev1.ConfigMap{record(t, "httpbin", "httpbin", "1.0.0")})
	h.start(1)
	h.logLine(`the record of httpbin/iter8 shows version "1.0.0" of apps/v1 deployments default/httpbin; nothing to ask`)
	h.setObject(deployment("httpbin", "2", "2.0.0"))
	want := `uid-httpbin-2 {"type":"update","trigger":"autox-httpbin-iter8","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"httpbin","namespace":"default","uid":"uid-httpbin","resourceVersion":"2","labels":{"app.kubernetes.io/version":"2.0.0"}}}}`
	if diff := cmp.Diff(want, h.post()); diff != "" {
		t.Errorf("post (-want +got):\n%s", diff)
	}
	// Scaling moves the resourceVersion, not the version: nothing more.
	h.setObject(deployment("httpbin", "3", "2.0.0"))
	h.setRecord(record(t, "httpbin", "httpbin", "2.0.0"))
	h.logLine(`the record of httpbin/iter8 shows version "2.0.0"`)
	h.noMorePosts()
}

// TestAgreeingGroupsPostNothing: a restart with every record up to date
// costs no post, and a group whose object and record are both absent has
// nothing to ask. Only the group changed afterwards is posted.
func TestAgreeingGroupsPostNothing(t *testing.T) {
	h := newHarness(t, fakeAccess{},
		[]*unstructured.Unstructured{trigger("a", "a"), trigger("b", "b"), trigger("c", "c"), trigger("gone", "gone")},
		[]*metav1.PartialObjectMetadata{deployment("a", "1", "1.0.0"), deployment("b", "1", "1.0.0"), deployment("c", "1", "3.0.0")},
		[]*corev1.ConfigMap{record(t, "a", "a", "1.0.0"), record(t, "b", "b", "1.0.0"), record(t, "c", "c", "3.0.0")})
	h.start(1)
	h.logLine(`the record of b/iter8 shows version "1.0.0" of apps/v1 deployments default/b; nothing to ask`)
	h.setObject(deployment("b", "2", "2.0.0"))
	if got := h.post(); !strings.Contains(got, `"trigger":"autox-b-iter8"`) {
		t.Errorf("first post is %s, want b's", got)
	}
	h.noMorePosts()
}

// TestDisagreeingRecordIsAskedAgainWithBackoff: a version labelled while
// the interceptor was down is asked about on start, then again after
// 500ms, 1s, 2s, 4s, 5s, 5s, until the record shows it.
func TestDisagreeingRecordIsAskedAgainWithBackoff(t *testing.T) {
	h := newHarness(t, fakeAccess{}, []*unstructured.Unstructured{trigger("httpbin", "httpbin")},
		[]*metav1.PartialObjectMetadata{deployment("httpbin", "1", "2.0.0")},
		[]*corev1.ConfigMap{record(t, "httpbin", "httpbin", "1.0.0")})
	h.start(1)
	typeOf := func(post string) string {
		_, after, _ := strings.Cut(post, `"type":"`)
		typ, _, _ := strings.Cut(after, `"`)
		return typ
	}
	got := []string{typeOf(h.post())}
	for _, d := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		// Just short of the wait: no ask yet.
		h.clock.Step(d - time.Millisecond)
		h.clock.Step(time.Millisecond)
		got = append(got, fmt.Sprintf("%s after %s", typeOf(h.post()), d))
	}
	want := []string{"add", "resync after 500ms", "resync after 1s", "resync after 2s", "resync after 4s", "resync after 5s", "resync after 5s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("asks (-want +got):\n%s", diff)
	}
	h.setRecord(record(t, "httpbin", "httpbin", "2.0.0"))
	h.logLine(`the record of httpbin/iter8 shows version "2.0.0" of apps/v1 deployments default/httpbin; asking no more`)
	h.clock.Step(time.Minute)
	if n := testutil.ToFloat64(h.w.Metrics.Asks); n != 7 {
		t.Errorf("autox_watcher_asks_total %v, want 7", n)
	}
	h.noMorePosts()
}

// TestTwoTriggersOneObject: two groups following one object are two
// events, one naming each Trigger.
func TestTwoTriggersOneObject(t *testing.T) {
	h := newHarness(t, fakeAccess{}, []*unstructured.Unstructured{trigger("one", "httpbin"), trigger("two", "httpbin")},
		[]*metav1.PartialObjectMetadata{deployment("httpbin", "1", "1.0.0")}, nil)
	h.start(1)
	var got []string
	for range 2 {
		p := h.post()
		_, after, _ := strings.Cut(p, `"trigger":"`)
		name, _, _ := strings.Cut(after, `"`)
		got = append(got, name)
	}
	if diff := cmp.Diff([]string{"autox-one-iter8", "autox-two-iter8"}, got); diff != "" {
		t.Errorf("Triggers posted (-want +got):\n%s", diff)
	}
	h.setRecord(record(t, "one", "httpbin", "1.0.0"))
}

// TestBadTriggersAreLoggedOnce: each bad Trigger is one line, not said
// again while it stays bad; the good one works.
func TestBadTriggersAreLoggedOnce(t *testing.T) {
	noExperiment := trigger("broken", "httpbin")
	params, _, _ := unstructured.NestedSlice(noExperiment.Object, "spec", "interceptors")
	ic := params[0].(map[string]any)
	ic["params"] = ic["params"].([]any)[:3]
	_ = unstructured.SetNestedSlice(noExperiment.Object, params, "spec", "interceptors")
	widget := trigger("widget", "w")
	wp, _, _ := unstructured.NestedSlice(widget.Object, "spec", "interceptors")
	wp[0].(map[string]any)["params"].([]any)[2] = map[string]any{"name": "trigger", "value": map[string]any{"name": "w", "namespace": "default", "group": "example.com", "version": "v1", "resource": "widgets"}}
	_ = unstructured.SetNestedSlice(widget.Object, wp, "spec", "interceptors")
	access := fakeAccess{widgets: errors.New("the API server does not serve widgets.example.com/v1; check the group, version and resource against kubectl api-resources")}
	h := newHarness(t, access, []*unstructured.Unstructured{noExperiment, widget, trigger("httpbin", "httpbin")},
		[]*metav1.PartialObjectMetadata{deployment("httpbin", "1", "1.0.0")},
		[]*corev1.ConfigMap{record(t, "httpbin", "httpbin", "1.0.0")})
	h.w.RetryRefused = time.Second
	h.start(1)
	want := []string{
		"::error::Trigger autox/autox-broken-iter8 is not watched: params.experiment is missing; add {name: experiment, value: {tasks: [ready, http, assess], ready: ..., http: ..., assess: ...}}, the spec's values",
		"::error::Trigger autox/autox-widget-iter8 is not watched: the API server does not serve widgets.example.com/v1; check the group, version and resource against kubectl api-resources",
	}
	var got []string
	for _, l := range h.read {
		if strings.HasPrefix(l, "::error::") {
			got = append(got, l)
		}
	}
	for len(got) < len(want) {
		got = append(got, h.logLine("::error::"))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	// Asked again (a grant or CRD may come), and a Trigger added: no
	// line repeated; the good group still works.
	h.clock.Step(time.Second)
	if _, err := h.dyn.Resource(contract.TriggersResource).Namespace("autox").Create(context.Background(), trigger("other", "httpbin"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := h.post(); !strings.Contains(got, `"trigger":"autox-other-iter8"`) {
		t.Errorf("post %s, want the new Trigger's", got)
	}
	h.setRecord(record(t, "other", "httpbin", "1.0.0"))
	h.noMorePosts()
	for {
		select {
		case l := <-h.logs:
			if strings.Contains(l, "::error::") {
				t.Errorf("said again: %s", l)
			}
		default:
			return
		}
	}
}

// testWriter logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
