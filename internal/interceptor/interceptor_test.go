// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	"google.golang.org/grpc/codes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

const ns = "autox"

// httpbinTrigger is the example Trigger, as the informer holds it.
const httpbinTrigger = `
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata:
  name: autox-httpbin-iter8
  namespace: autox
  uid: tr-1
  labels: {autox.dev/group: httpbin, autox.dev/spec: iter8}
spec:
  interceptors:
    - name: autox
      ref: {name: autox, kind: ClusterInterceptor}
      params:
        - {name: group, value: httpbin}
        - {name: spec, value: iter8}
        - {name: trigger, value: {name: httpbin, namespace: default, group: apps, version: v1, resource: deployments}}
        - {name: experiment, value: {tasks: [ready, http, assess], http: {url: "http://httpbin.default/get"}}}
  bindings: [{ref: autox}]
  template: {ref: autox}
`

// httpbinExperiment is the experiment as the extensions carry it.
const httpbinExperiment = "http:\n  url: http://httpbin.default/get\ntasks:\n- ready\n- http\n- assess\n"

// fakeGroups holds parsed Triggers.
type fakeGroups map[string]groupEntry

func (f fakeGroups) Group(name string) (contract.Group, bool, error) {
	e, ok := f[name]
	return e.group, ok, e.err
}

func (f fakeGroups) LiveUID(_ context.Context, name string) (string, error) {
	return f[name].group.TriggerUID, nil
}

func (f fakeGroups) Naming(ref contract.ObjectRef) []string {
	var out []string
	for n, e := range f {
		if e.err == nil && e.group.Params.Trigger.Matches(ref) {
			out = append(out, n)
		}
	}
	return out
}

func groupsOf(t testing.TB, docs ...string) fakeGroups {
	t.Helper()
	g := fakeGroups{}
	for _, d := range docs {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		gr, err := contract.FromTrigger(&u)
		g[u.GetName()] = groupEntry{group: gr, err: err}
	}
	return g
}

// fakeObjects is the cluster's httpbin Deployment: the cache may lag
// behind the live object.
type fakeObjects struct {
	mu          sync.Mutex
	cached      decide.Object
	synced      bool
	live        decide.Object
	liveReads   int
	liveFailure error
	// then are what the live object becomes after each live read.
	then []decide.Object
}

func (f *fakeObjects) Cached(contract.Object) (decide.Object, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cached, f.synced
}

func (f *fakeObjects) Live(context.Context, contract.Object) (decide.Object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.liveReads++
	if len(f.then) > 0 {
		// The object changes after this read.
		o := f.live
		f.live, f.then = f.then[0], f.then[1:]
		return o, f.liveFailure
	}
	return f.live, f.liveFailure
}

// both sets the cache and the live object to o.
func (f *fakeObjects) both(o decide.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cached, f.live, f.synced = o, o, true
}

// memRecords is a record store with the API server's optimistic
// concurrency: an update naming an old resourceVersion is a Conflict.
type memRecords struct {
	mu        sync.Mutex
	rec       *StoredRecord
	rv        int
	writes    int
	conflicts int
}

var _ Records = (*memRecords)(nil)

func (m *memRecords) Cached(string, string) (StoredRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec == nil {
		return StoredRecord{}, false, nil
	}
	r := *m.rec
	r.Runs = append([]contract.Entry(nil), r.Runs...)
	return r, true, nil
}

func (m *memRecords) Live(_ context.Context, g, s string) (StoredRecord, bool, error) {
	return m.Cached(g, s)
}

func (m *memRecords) Create(_ context.Context, g contract.Group) (StoredRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gr := schema.GroupResource{Resource: "configmaps"}
	if m.rec != nil {
		m.conflicts++
		return StoredRecord{}, apierrors.NewAlreadyExists(gr, contract.RecordName(g.Group, g.Spec))
	}
	m.rv++
	m.rec = &StoredRecord{Record: contract.Record{Group: g.Group, Spec: g.Spec, Trigger: g.TriggerName, TriggerUID: g.TriggerUID}, UID: "rec-1", ResourceVersion: strconv.Itoa(m.rv)}
	return *m.rec, nil
}

func (m *memRecords) Update(_ context.Context, r StoredRecord) (StoredRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec == nil || r.ResourceVersion != m.rec.ResourceVersion {
		m.conflicts++
		return StoredRecord{}, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, contract.RecordName(r.Group, r.Spec), fmt.Errorf("the object has been modified"))
	}
	m.rv++
	m.writes++
	r.ResourceVersion = strconv.Itoa(m.rv)
	m.rec = &r
	return r, nil
}

type fakeCanceller struct {
	mu        sync.Mutex
	cancelled []string
}

func (f *fakeCanceller) Cancel(_ context.Context, namespace, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, namespace+"/"+name)
	return nil
}

type fixture struct {
	interceptor *Interceptor
	objects     *fakeObjects
	records     *memRecords
	canceller   *fakeCanceller
	metrics     *Metrics
}

func newFixture(t testing.TB) fixture {
	f := fixture{objects: &fakeObjects{}, records: &memRecords{}, canceller: &fakeCanceller{}, metrics: NewMetrics(prometheus.NewRegistry())}
	f.interceptor = &Interceptor{
		Namespace: ns, RunsNamespace: ns, Groups: groupsOf(t, httpbinTrigger), Objects: f.objects, Records: f.records,
		Canceller: f.canceller, Metrics: f.metrics, Log: testLogger(t), Now: func() time.Time { return t0 },
	}
	return f
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// body is the watcher's event about the httpbin Deployment.
func body(t testing.TB, typ, trigger, version string) string {
	t.Helper()
	ev := contract.Event{Type: typ, Trigger: trigger, Object: contract.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment",
		Metadata: contract.Meta{Name: "httpbin", Namespace: "default", UID: "dep-1", ResourceVersion: "7"}}}
	if version != "" {
		ev.Object.Metadata.Labels = map[string]string{contract.VersionLabel: version}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// request is what the EventListener sends through its dispatch Trigger;
// the params are a hostile caller's, which must change nothing.
func request(body string) *triggersv1beta1.InterceptorRequest {
	return &triggersv1beta1.InterceptorRequest{
		Body:              body,
		InterceptorParams: map[string]any{"group": "other", "spec": "team", "trigger": map[string]any{"name": "x", "namespace": "y", "version": "v1", "resource": "deployments"}},
		Context:           &triggersv1beta1.TriggerContext{EventID: "ev-1", TriggerID: "namespaces/autox/triggers/autox"},
	}
}

func dep(version string) decide.Object {
	return decide.Object{Exists: true, UID: "dep-1", Version: version}
}

func run(seq int64) string { return contract.RunName("httpbin", "iter8", "rec-1", seq) }

func launched(version string, seq int64) *triggersv1beta1.InterceptorResponse {
	return &triggersv1beta1.InterceptorResponse{Continue: true, Extensions: map[string]any{"autox": contract.Extensions{
		Group: "httpbin", Spec: "iter8", Version: version, Name: "httpbin", Namespace: "default", RunName: run(seq), RunNamespace: ns,
		Seq: strconv.FormatInt(seq, 10), Experiment: httpbinExperiment, DecidedAt: "2026-12-04T10:00:00.123456789Z",
		Pipeline: "autox",
	}}}
}

// TestProcess_ShouldContinue: the cluster holds a version the record does
// not show tested; the event is only the occasion.
func TestProcess_ShouldContinue(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cached     decide.Object
		live       decide.Object
		body       func(t testing.TB) string
		before     []contract.Entry
		want       *triggersv1beta1.InterceptorResponse
		wantCancel []string
		// wantLive: a launch is decided on the object read live, once.
		wantLive int
	}{
		{name: "a new version, the cache up to date", cached: dep("1.0.0"), live: dep("1.0.0"),
			body: func(t testing.TB) string { return body(t, "update", "autox-httpbin-iter8", "1.0.0") }, want: launched("1.0.0", 1), wantLive: 1},
		{name: "the cache behind the event: a GET, and one after the record", cached: dep(""), live: dep("2.0.0"),
			body: func(t testing.TB) string { return body(t, "update", "autox-httpbin-iter8", "2.0.0") }, want: launched("2.0.0", 1), wantLive: 2},
		{name: "an event claiming an old version launches the one the object carries", cached: dep("3.0.0"), live: dep("3.0.0"),
			body: func(t testing.TB) string { return body(t, "update", "autox-httpbin-iter8", "1.0.0") }, want: launched("3.0.0", 1), wantLive: 2},
		{name: "a new version supersedes the run going", cached: dep("2.0.0"), live: dep("2.0.0"),
			before: []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Running}},
			body:   func(t testing.TB) string { return body(t, "update", "autox-httpbin-iter8", "2.0.0") }, want: launched("2.0.0", 2), wantCancel: []string{"autox/" + run(1)}, wantLive: 1},
		{name: "the label back after a cancel for its removal", cached: dep("1.0.0"), live: dep("1.0.0"),
			before: []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Cancelled, Untested: true}},
			body:   func(t testing.TB) string { return body(t, "update", "autox-httpbin-iter8", "1.0.0") }, want: launched("1.0.0", 2), wantLive: 1},
		{name: "an ApiServerSource event names no Trigger: the one naming its object", cached: dep("2.0.0"), live: dep("2.0.0"),
			body: func(t testing.TB) string { b, _ := recorded(t); return b }, want: launched("2.0.0", 1), wantLive: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.objects.cached, f.objects.live, f.objects.synced = tc.cached, tc.live, true
			if tc.before != nil {
				f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: int64(len(tc.before)), Runs: tc.before}, UID: "rec-1", ResourceVersion: "1"}
				f.records.rv = 1
			}
			req := request(tc.body(t))
			if tc.name == "an ApiServerSource event names no Trigger: the one naming its object" {
				_, req.Header = recorded(t)
			}
			got := f.interceptor.Process(context.Background(), req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("response (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCancel, f.canceller.cancelled); diff != "" {
				t.Errorf("cancelled (-want +got):\n%s", diff)
			}
			if f.objects.liveReads != tc.wantLive {
				t.Errorf("%d live reads, want %d", f.objects.liveReads, tc.wantLive)
			}
			latest, _ := f.records.rec.Latest()
			if latest.Run != got.Extensions["autox"].(contract.Extensions).RunName || latest.State != contract.Launched {
				t.Errorf("the record's latest launch is %+v, want the run launched", latest)
			}
			if n := testutil.ToFloat64(f.metrics.Decisions.WithLabelValues("launch")); n != 1 {
				t.Errorf("decisions{outcome=launch} = %v, want 1", n)
			}
		})
	}
}

// TestProcess_ShouldNotContinue: nothing to launch, or a request that is
// not autox's to answer. Each changes nothing it should not.
func TestProcess_ShouldNotContinue(t *testing.T) {
	tested := []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Hour), RunUID: "r1", State: contract.Succeeded}}
	going := []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Running}}
	for _, tc := range []struct {
		name       string
		obj        decide.Object
		before     []contract.Entry
		req        func(t testing.TB) *triggersv1beta1.InterceptorRequest
		wantCode   codes.Code
		wantMsg    string
		wantCancel []string
		wantWrites int
	}{
		{name: "a forged event for a version the object does not carry", obj: dep("1.0.0"), before: tested,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(body(t, "update", "autox-httpbin-iter8", "9.9.9"))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `version "1.0.0" of httpbin/iter8 is already tested by the latest run ` + run(1) + ` (succeeded); nothing to launch`},
		{name: "the same version again", obj: dep("1.0.0"), before: tested,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(body(t, "resync", "autox-httpbin-iter8", "1.0.0"))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `version "1.0.0" of httpbin/iter8 is already tested by the latest run ` + run(1) + ` (succeeded); nothing to launch`},
		{name: "a forged delete of an object that exists", obj: dep("1.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(body(t, "delete", "autox-httpbin-iter8", ""))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `version "1.0.0" of httpbin/iter8 is already tested by the latest run ` + run(1) + ` (running); nothing to launch`},
		{name: "the label removed: the run going is cancelled, untested", obj: dep(""), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(body(t, "update", "autox-httpbin-iter8", ""))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `the object has no version label app.kubernetes.io/version; nothing to launch; cancelling ` + run(1),
			wantCancel: []string{"autox/" + run(1)}, wantWrites: 1},
		{name: "a direct request with no trigger context", obj: dep("2.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				r := request(body(t, "update", "autox-httpbin-iter8", "2.0.0"))
				r.Context = nil
				return r
			},
			wantCode: codes.FailedPrecondition, wantMsg: `the request's trigger context "" names no Trigger in namespace autox; only the autox EventListener's Triggers are answered; nothing done`},
		{name: "a trigger context in another namespace", obj: dep("2.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				r := request(body(t, "update", "autox-httpbin-iter8", "2.0.0"))
				r.Context.TriggerID = "namespaces/team-b/triggers/autox"
				return r
			},
			wantCode: codes.FailedPrecondition, wantMsg: `the request's trigger context "namespaces/team-b/triggers/autox" names no Trigger in namespace autox; only the autox EventListener's Triggers are answered; nothing done`},
		{name: "an event naming a Trigger that is not a group's", obj: dep("2.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(body(t, "update", "autox-other-team", "2.0.0"))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `no Trigger autox-other-team labelled autox.dev/group in namespace autox; nothing done`},
		{name: "an event about another object", obj: dep("2.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				b := body(t, "update", "autox-httpbin-iter8", "2.0.0")
				var ev contract.Event
				_ = json.Unmarshal([]byte(b), &ev)
				ev.Object.Metadata.Namespace = "team-b"
				out, _ := json.Marshal(ev)
				return request(string(out))
			},
			wantCode: codes.FailedPrecondition, wantMsg: `the event is about apps/v1 Deployment team-b/httpbin, not Trigger autox-httpbin-iter8's object apps/v1 deployments default/httpbin (namespace "team-b" is not "default"); nothing to do`},
		{name: "a body that is not an event", obj: dep("2.0.0"), before: going,
			req: func(t testing.TB) *triggersv1beta1.InterceptorRequest {
				return request(`{"type":"update","trigger":"autox-httpbin-iter8","objct":{}}`)
			},
			wantCode: codes.InvalidArgument, wantMsg: `body: unknown key "objct"; did you mean "object"?; the body is {type, trigger, object}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.objects.both(tc.obj)
			f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: int64(len(tc.before)), Runs: tc.before}, UID: "rec-1", ResourceVersion: "1"}
			f.records.rv = 1
			got := f.interceptor.Process(context.Background(), tc.req(t))
			if got.Continue {
				t.Fatalf("continued: %+v", got.Extensions)
			}
			if got.Status.Code != tc.wantCode || got.Status.Message != tc.wantMsg {
				t.Errorf("status %s %q\nwant %s %q", got.Status.Code, got.Status.Message, tc.wantCode, tc.wantMsg)
			}
			if diff := cmp.Diff(tc.wantCancel, f.canceller.cancelled); diff != "" {
				t.Errorf("cancelled (-want +got):\n%s", diff)
			}
			if f.records.writes != tc.wantWrites {
				t.Errorf("%d record writes, want %d", f.records.writes, tc.wantWrites)
			}
		})
	}
}

// TestProcess_DuplicatesMakeOneLaunch: 50 copies of one event at once
// (the EventListener handles them side by side) launch once: the record's
// optimistic concurrency lets one write win, and the others, reading it
// again, find the version launched.
func TestProcess_DuplicatesMakeOneLaunch(t *testing.T) {
	f := newFixture(t)
	f.objects.both(dep("2.0.0"))
	b := body(t, "update", "autox-httpbin-iter8", "2.0.0")
	var wg sync.WaitGroup
	results := make([]*triggersv1beta1.InterceptorResponse, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.interceptor.Process(context.Background(), request(b))
		}()
	}
	wg.Wait()
	launches := 0
	for _, r := range results {
		if r.Continue {
			launches++
		} else if r.Status.Code != codes.FailedPrecondition {
			t.Errorf("a duplicate got %s %q, want FailedPrecondition", r.Status.Code, r.Status.Message)
		}
	}
	if launches != 1 || f.records.rec.Seq != 1 || len(f.records.rec.Runs) != 1 {
		t.Errorf("%d launches, record seq %d with %d runs; want 1, 1, 1", launches, f.records.rec.Seq, len(f.records.rec.Runs))
	}
	t.Logf("%d record conflicts among 50 duplicates", f.records.conflicts)
}

// TestProcess_RunNamesAreNeverReused: however runs come and go, every
// launch has a new name.
func TestProcess_RunNamesAreNeverReused(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for i, v := range []string{"1.0.0", "2.0.0", "1.0.0", "", "1.0.0", "2.0.0"} {
		f.objects.both(dep(v))
		got := f.interceptor.Process(context.Background(), request(body(t, "update", "autox-httpbin-iter8", v)))
		if v == "" {
			continue
		}
		if !got.Continue {
			t.Fatalf("step %d (%s): %s", i, v, got.Status.Message)
		}
		name := got.Extensions["autox"].(contract.Extensions).RunName
		if seen[name] {
			t.Fatalf("step %d: run name %s again", i, name)
		}
		seen[name] = true
	}
}

// recorded reads the recorded ApiServerSource request in testdata.
func recorded(t testing.TB) (string, map[string][]string) {
	t.Helper()
	f, err := os.Open("testdata/apiserversource-update.http")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.ReadRequest(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), req.Header
}

// TestProcess_ALateReconcilerLosesNothing: a launch still marked
// launched 15 s on, whose run is there, is not launched again.
func TestProcess_ALateReconcilerLosesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		runs     fakeRuns
		wantCont bool
	}{
		{"its run is there: nothing to launch", fakeRuns{run(1): {Name: run(1), UID: "r1", State: contract.Running}}, false},
		{"no run: lost, launched again", fakeRuns{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.interceptor.Runs = tc.runs
			f.objects.both(dep("1.0.0"))
			f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 1,
				Runs: []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), State: contract.Launched}}}, UID: "rec-1", ResourceVersion: "1"}
			f.records.rv = 1
			got := f.interceptor.Process(context.Background(), request(body(t, "resync", "autox-httpbin-iter8", "1.0.0")))
			if got.Continue != tc.wantCont {
				t.Errorf("continue %t (%s), want %t", got.Continue, got.Status.Message, tc.wantCont)
			}
		})
	}
}

// TestProcess_ALateEventMeetsAStaleCache: the label went 1.0.0 → 2.0.0
// and 2.0.0 was launched; a late event for 1.0.0 reaches a replica whose
// cache still shows 1.0.0. The launch it would make is checked against
// the object read live: nothing is launched or cancelled.
func TestProcess_ALateEventMeetsAStaleCache(t *testing.T) {
	f := newFixture(t)
	f.objects.cached, f.objects.synced, f.objects.live = dep("1.0.0"), true, dep("2.0.0")
	f.records.rec = &StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 2,
		Runs: []contract.Entry{
			{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Cancelled},
			{Seq: 2, Run: run(2), Version: "2.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Second), RunUID: "r2", State: contract.Running},
		}}, UID: "rec-1", ResourceVersion: "1"}
	f.records.rv = 1
	got := f.interceptor.Process(context.Background(), request(body(t, "update", "autox-httpbin-iter8", "1.0.0")))
	if got.Continue {
		t.Fatalf("launched %+v", got.Extensions)
	}
	if want := `version "2.0.0" of httpbin/iter8 is already tested by the latest run ` + run(2) + ` (running); nothing to launch`; got.Status.Message != want {
		t.Errorf("status %q\nwant %q", got.Status.Message, want)
	}
	if len(f.canceller.cancelled) != 0 || f.records.writes != 0 || f.objects.liveReads != 1 {
		t.Errorf("cancelled %v, %d record writes, %d live reads; want none, 0, 1", f.canceller.cancelled, f.records.writes, f.objects.liveReads)
	}
}
