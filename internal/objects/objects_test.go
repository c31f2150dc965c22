// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package objects

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

var configMapsResource = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// refusingAccess refuses the resources it lists and counts every ask.
type refusingAccess struct {
	refused map[schema.GroupVersionResource]error
	mu      sync.Mutex
	asked   []string
}

func (a *refusingAccess) CanWatch(_ context.Context, r schema.GroupVersionResource, ns string) (string, error) {
	a.mu.Lock()
	a.asked = append(a.asked, r.Resource+" "+ns)
	a.mu.Unlock()
	if err := a.refused[r]; err != nil {
		return "", err
	}
	return map[string]string{"deployments": "Deployment", "configmaps": "ConfigMap"}[r.Resource], nil
}

// target names a Deployment in ns as a Trigger does.
func target(ns, name string) contract.Object {
	return contract.Object{Name: name, Namespace: ns, Group: "apps", Version: "v1", Resource: "deployments"}
}

// object is a Deployment's metadata as the API server serves it, with
// what the cache must not keep (annotations, managedFields).
func object(ns, name, resourceVersion, version string) *metav1.PartialObjectMetadata {
	labels := map[string]string{"app": name}
	if version != "" {
		labels[contract.VersionLabel] = version
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID("uid-" + name), ResourceVersion: resourceVersion, Labels: labels,
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"spec": "big"}`},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		},
	}
}

// fixture is a Cache on a fake metadata client.
type fixture struct {
	t      *testing.T
	c      *Cache
	meta   *metadatafake.FakeMetadataClient
	access *refusingAccess
	// watches gets "resource namespace" for each watch an informer opens.
	watches chan string
	// synced gets the resource of each Synced change.
	synced  chan Resource
	changes chan Change
	logs    *logLines
	ctx     context.Context
}

// logLines keeps every log line.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func (l *logLines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func newFixture(t *testing.T, refused map[schema.GroupVersionResource]error, objs ...runtime.Object) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{
		t:       t,
		meta:    metadatafake.NewSimpleMetadataClient(scheme, objs...),
		access:  &refusingAccess{refused: refused},
		watches: make(chan string, 100),
		synced:  make(chan Resource, 100),
		changes: make(chan Change, 100),
		logs:    &logLines{},
		ctx:     ctx,
	}
	// The fake serves a watch only from when it is asked for: a change
	// made between an informer's list and its watch would be lost, so
	// tests wait for the watch before changing anything.
	f.meta.PrependWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := f.meta.Tracker().Watch(action.GetResource(), action.GetNamespace())
		f.watches <- action.GetResource().Resource + " " + action.GetNamespace()
		return true, w, err
	})
	// Only the message: the text handler's time and level are noise.
	log := slog.New(slog.NewTextHandler(io.MultiWriter(f.logs, testWriter{t}), &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	f.c = &Cache{Client: f.meta, Access: f.access, Log: log}
	f.c.Subscribe(func(c Change) {
		if c.Type == Synced {
			f.synced <- c.Key.Resource
			return
		}
		f.changes <- c
	})
	t.Cleanup(func() {
		cancel()
		f.c.Stop()
	})
	return f
}

// setTargets sets targets and waits until every new informer has listed
// and watches.
func (f *fixture) setTargets(informers int, targets ...contract.Object) map[contract.Object]error {
	f.t.Helper()
	problems := f.c.SetTargets(f.ctx, targets)
	for range informers {
		recv(f.t, f.synced, "Synced change")
	}
	for range informers {
		recv(f.t, f.watches, "watch")
	}
	return problems
}

// listsAndWatches are the list and watch calls made on the client, as
// "verb resource namespace", sorted.
func (f *fixture) listsAndWatches() []string {
	var got []string
	for _, a := range f.meta.Actions() {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			got = append(got, a.GetVerb()+" "+a.GetResource().Resource+" "+a.GetNamespace())
		}
	}
	slices.Sort(got)
	return got
}

func recv[T any](t *testing.T, ch chan T, what string) T {
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

// testWriter logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

func messages(lines []string) []string {
	var got []string
	for _, l := range lines {
		_, msg, _ := strings.Cut(l, "msg=")
		got = append(got, msg)
	}
	return got
}

func TestSetTargetsStartsOneInformerPerResourceAndNamespace(t *testing.T) {
	cm := func(ns, name string) contract.Object {
		return contract.Object{Name: name, Namespace: ns, Version: "v1", Resource: "configmaps"}
	}
	for _, tc := range []struct {
		name      string
		targets   []contract.Object
		wantCalls []string
		wantLogs  []string
	}{{
		name:      "two objects in one namespace share one informer",
		targets:   []contract.Object{target("default", "a"), target("default", "b")},
		wantCalls: []string{"list deployments default", "watch deployments default"},
		wantLogs:  []string{`"watching deployments.apps/v1 in namespace default"`},
	}, {
		name:    "one informer per namespace",
		targets: []contract.Object{target("default", "a"), target("other", "a"), target("default", "b")},
		wantCalls: []string{
			"list deployments default", "list deployments other",
			"watch deployments default", "watch deployments other",
		},
		wantLogs: []string{
			`"watching deployments.apps/v1 in namespace default"`,
			`"watching deployments.apps/v1 in namespace other"`,
		},
	}, {
		name:    "one informer per resource",
		targets: []contract.Object{target("default", "a"), cm("default", "a"), cm("default", "b")},
		wantCalls: []string{
			"list configmaps default", "list deployments default",
			"watch configmaps default", "watch deployments default",
		},
		wantLogs: []string{
			`"watching configmaps/v1 in namespace default"`,
			`"watching deployments.apps/v1 in namespace default"`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if problems := f.setTargets(len(tc.wantLogs), tc.targets...); len(problems) != 0 {
				t.Errorf("SetTargets: %v, want no problems", problems)
			}
			if diff := cmp.Diff(tc.wantCalls, f.listsAndWatches()); diff != "" {
				t.Errorf("lists and watches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLogs, messages(f.logs.get())); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			// Setting the same targets again starts nothing and asks nothing.
			asked := len(f.access.asked)
			if problems := f.c.SetTargets(f.ctx, tc.targets); len(problems) != 0 {
				t.Errorf("SetTargets again: %v, want no problems", problems)
			}
			if diff := cmp.Diff(tc.wantCalls, f.listsAndWatches()); diff != "" {
				t.Errorf("lists and watches after the same targets again (-want +got):\n%s", diff)
			}
			if got := len(f.access.asked); got != asked {
				t.Errorf("Access asked %d times more, want 0", got-asked)
			}
		})
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t, nil,
		object("default", "labelled", "1", "1.0.0"),
		object("default", "unlabelled", "1", ""),
		object("default", "other", "1", "3.0.0"),
		object("elsewhere", "labelled", "1", "1.0.0"),
	)
	f.setTargets(1, target("default", "labelled"), target("default", "unlabelled"), target("default", "missing"))
	for _, tc := range []struct {
		name       string
		object     contract.Object
		want       decide.Object
		wantSynced bool
	}{{
		name:       "a target with a version label",
		object:     target("default", "labelled"),
		want:       decide.Object{Exists: true, UID: "uid-labelled", Version: "1.0.0"},
		wantSynced: true,
	}, {
		name:       "a target without a version label has version empty",
		object:     target("default", "unlabelled"),
		want:       decide.Object{Exists: true, UID: "uid-unlabelled"},
		wantSynced: true,
	}, {
		name:       "a target that does not exist",
		object:     target("default", "missing"),
		want:       decide.Object{},
		wantSynced: true,
	}, {
		name:   "an object in a namespace no target names is not known",
		object: target("elsewhere", "labelled"),
		want:   decide.Object{},
	}, {
		name:   "an object of a resource no target names is not known",
		object: contract.Object{Name: "labelled", Namespace: "default", Version: "v1", Resource: "configmaps"},
		want:   decide.Object{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, synced := f.c.Get(tc.object)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
			if synced != tc.wantSynced {
				t.Errorf("Get synced %v, want %v", synced, tc.wantSynced)
			}
		})
	}
}

// TestGetIsNotSyncedBeforeTheFirstList: while the list is held back, Get
// does not answer; once it is served, Get does.
func TestGetIsNotSyncedBeforeTheFirstList(t *testing.T) {
	f := newFixture(t, nil, object("default", "a", "1", "1.0.0"))
	listing, release := make(chan struct{}, 1), make(chan struct{})
	f.meta.PrependReactor("list", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		listing <- struct{}{}
		<-release
		return false, nil, nil // served by the tracker
	})
	f.c.SetTargets(f.ctx, []contract.Object{target("default", "a")})
	recv(t, listing, "list")
	if got, synced := f.c.Get(target("default", "a")); synced || got != (decide.Object{}) {
		t.Errorf("Get during the first list = %+v, %v; want {}, false", got, synced)
	}
	if _, ok := f.c.Lookup(target("default", "a")); ok {
		t.Errorf("Lookup during the first list is synced, want not")
	}
	close(release)
	recv(t, f.synced, "Synced change")
	got, synced := f.c.Get(target("default", "a"))
	if diff := cmp.Diff(decide.Object{Exists: true, UID: "uid-a", Version: "1.0.0"}, got); diff != "" || !synced {
		t.Errorf("Get after the first list: synced %v, (-want +got):\n%s", synced, diff)
	}
}

// TestCacheKeepsMetadataOnly: what the informer stores and what Lookup
// returns hold the name, namespace, uid, resourceVersion and labels, not
// annotations or managedFields.
func TestCacheKeepsMetadataOnly(t *testing.T) {
	f := newFixture(t, nil, object("default", "a", "7", "1.0.0"))
	f.setTargets(1, target("default", "a"))
	labels := map[string]string{"app": "a", contract.VersionLabel: "1.0.0"}
	got, synced := f.c.Lookup(target("default", "a"))
	want := &Meta{APIVersion: "apps/v1", Kind: "Deployment", Name: "a", Namespace: "default", UID: "uid-a", ResourceVersion: "7", Labels: labels}
	if diff := cmp.Diff(want, got); diff != "" || !synced {
		t.Errorf("Lookup: synced %v, (-want +got):\n%s", synced, diff)
	}
	f.c.mu.Lock()
	in := f.c.informers[Resource{GVR: deploymentsResource, Namespace: "default"}]
	f.c.mu.Unlock()
	stored, _, err := in.inf.GetStore().GetByKey("default/a")
	if err != nil {
		t.Fatal(err)
	}
	wantStored := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: "a", Namespace: "default", UID: "uid-a", ResourceVersion: "7", Labels: labels,
	}}
	if diff := cmp.Diff(wantStored, stored); diff != "" {
		t.Errorf("stored object (-want +got):\n%s", diff)
	}
}

// TestSubscribeReportsTargetsOnly: adds, updates and deletions of the
// targets are reported in order; the same of another object in the
// namespace is not.
func TestSubscribeReportsTargetsOnly(t *testing.T) {
	f := newFixture(t, nil, object("default", "a", "1", "1.0.0"), object("default", "other", "1", "1.0.0"))
	f.setTargets(1, target("default", "a"), target("default", "b"))
	tracker := f.meta.Tracker()
	meta := func(name, resourceVersion, version string) *Meta {
		labels := map[string]string{"app": name}
		if version != "" {
			labels[contract.VersionLabel] = version
		}
		return &Meta{APIVersion: "apps/v1", Kind: "Deployment", Name: name, Namespace: "default", UID: "uid-" + name, ResourceVersion: resourceVersion, Labels: labels}
	}
	key := func(name string) Key {
		return Key{Resource: Resource{GVR: deploymentsResource, Namespace: "default"}, Name: name}
	}
	// The informer delivers in order across objects only when the later
	// object is not queued already, so each phase ends with a change of a
	// target and waits for it: a change of another object in the phase
	// came before it, and had it been reported it would be in got.
	phases := []struct {
		steps []func() error
		want  []Change
	}{{
		want: []Change{{Type: Added, Key: key("a"), New: meta("a", "1", "1.0.0")}},
	}, {
		steps: []func() error{
			func() error {
				return tracker.Update(deploymentsResource, object("default", "a", "2", "2.0.0"), "default")
			},
		},
		want: []Change{{Type: Updated, Key: key("a"), Old: meta("a", "1", "1.0.0"), New: meta("a", "2", "2.0.0")}},
	}, {
		steps: []func() error{
			func() error {
				return tracker.Update(deploymentsResource, object("default", "other", "2", "2.0.0"), "default")
			},
			func() error { return tracker.Add(object("default", "b", "3", "")) },
		},
		want: []Change{{Type: Added, Key: key("b"), New: meta("b", "3", "")}},
	}, {
		steps: []func() error{
			func() error { return tracker.Add(object("default", "stranger", "3", "")) },
			func() error { return tracker.Delete(deploymentsResource, "default", "other") },
			func() error { return tracker.Delete(deploymentsResource, "default", "a") },
		},
		want: []Change{{Type: Deleted, Key: key("a"), Old: meta("a", "2", "2.0.0")}},
	}}
	var want, got []Change
	for _, p := range phases {
		for _, step := range p.steps {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, p.want...)
		for range p.want {
			got = append(got, recv(t, f.changes, "change"))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	select {
	case c := <-f.changes:
		t.Errorf("change not wanted: %+v", c)
	default:
	}
	if got, synced := f.c.Get(target("default", "a")); got.Exists || !synced {
		t.Errorf("Get of a deleted target = %+v, synced %v; want not existing, synced", got, synced)
	}
}

// TestSetTargetsRefused: a resource Access refuses is each of its
// targets' problem, and no informer watches it; the others are watched.
func TestSetTargetsRefused(t *testing.T) {
	notServed := errors.New("the API server does not serve configmaps/v1; check the group, version and resource against kubectl api-resources")
	f := newFixture(t, map[schema.GroupVersionResource]error{configMapsResource: notServed})
	cm := func(name string) contract.Object {
		return contract.Object{Name: name, Namespace: "default", Version: "v1", Resource: "configmaps"}
	}
	problems := f.setTargets(1, cm("x"), cm("y"), target("default", "a"))
	got := map[contract.Object]string{}
	for o, err := range problems {
		got[o] = err.Error()
	}
	want := map[contract.Object]string{cm("x"): notServed.Error(), cm("y"): notServed.Error()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"list deployments default", "watch deployments default"}, f.listsAndWatches()); diff != "" {
		t.Errorf("lists and watches (-want +got):\n%s", diff)
	}
	if _, synced := f.c.Get(cm("x")); synced {
		t.Errorf("Get of a refused target is synced, want not")
	}
	if _, _, ok := f.c.Kind(cm("x")); ok {
		t.Errorf("Kind of a refused target is known, want not")
	}
	// Asked again on the next call: a grant or a CRD may come.
	delete(f.access.refused, configMapsResource)
	if problems := f.setTargets(1, cm("x"), cm("y"), target("default", "a")); len(problems) != 0 {
		t.Errorf("SetTargets once allowed: %v, want no problems", problems)
	}
	if diff := cmp.Diff([]string{"configmaps default", "deployments default", "configmaps default"}, f.access.asked); diff != "" {
		t.Errorf("Access asked (-want +got):\n%s", diff)
	}
	if _, kind, ok := f.c.Kind(cm("x")); kind != "ConfigMap" || !ok {
		t.Errorf("Kind once allowed = %q, %v; want ConfigMap, true", kind, ok)
	}
}

// TestDroppingTargets: dropping one of two names keeps the informer (and
// stops reporting the dropped one); dropping the last stops it.
func TestDroppingTargets(t *testing.T) {
	f := newFixture(t, nil, object("default", "a", "1", "1.0.0"), object("default", "b", "1", "1.0.0"))
	f.setTargets(1, target("default", "a"), target("default", "b"))
	for range 2 {
		recv(t, f.changes, "Added change")
	}
	f.c.SetTargets(f.ctx, []contract.Object{target("default", "a")})
	tracker := f.meta.Tracker()
	if err := tracker.Update(deploymentsResource, object("default", "b", "2", "2.0.0"), "default"); err != nil {
		t.Fatal(err)
	}
	if err := tracker.Update(deploymentsResource, object("default", "a", "2", "2.0.0"), "default"); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, f.changes, "change"); c.Type != Updated || c.Key.Name != "a" {
		t.Errorf("change %s of %s, want updated of a (b is no target any more)", c.Type, c.Key.Name)
	}
	if diff := cmp.Diff([]string{"list deployments default", "watch deployments default"}, f.listsAndWatches()); diff != "" {
		t.Errorf("lists and watches while a is a target (-want +got):\n%s", diff)
	}

	f.c.SetTargets(f.ctx, nil)
	wantLogs := []string{
		`"watching deployments.apps/v1 in namespace default"`,
		`"stopped watching deployments.apps/v1 in namespace default: no Trigger names it"`,
	}
	if diff := cmp.Diff(wantLogs, messages(f.logs.get())); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if _, synced := f.c.Get(target("default", "a")); synced {
		t.Errorf("Get after the last target was dropped is synced, want not")
	}
	f.c.mu.Lock()
	n := len(f.c.informers)
	f.c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d informers run, want 0", n)
	}
}
