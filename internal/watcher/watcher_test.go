package watcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/logging"
)

var (
	deploymentsResource = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	widgetsResource     = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	servicesResource    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
)

// fakeAccess answers CanWatch from a table; what it does not list may be
// watched.
type fakeAccess map[resourceKey]error

func (a fakeAccess) CanWatch(_ context.Context, r schema.GroupVersionResource, namespace string) error {
	return a[resourceKey{r, namespace}]
}

// sendTo is a Sender that hands events to the test.
type sendTo chan Event

func (s sendTo) Send(ev Event) { s <- ev }

// lines is a log writer that hands each line to the test.
type lines chan string

func (l lines) Write(b []byte) (int, error) {
	l <- strings.TrimSuffix(string(b), "\n")
	return len(b), nil
}

// trigger is a Trigger naming the object to watch, as the seed's
// groups do.
func trigger(name string, watched any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "triggers.tekton.dev/v1beta1",
		"kind":       "Trigger",
		"metadata": map[string]any{
			"name": name, "namespace": "autox",
			"labels": map[string]any{GroupLabel: name},
		},
		"spec": map[string]any{"interceptors": []any{map[string]any{
			"ref":    map[string]any{"name": "autox", "kind": "ClusterInterceptor"},
			"params": []any{map[string]any{"name": "trigger", "value": watched}},
		}}},
	}}
}

func watching(name string, r schema.GroupVersionResource, namespace string) any {
	return map[string]any{"name": name, "namespace": namespace, "group": r.Group, "version": r.Version, "resource": r.Resource}
}

// brief is an event as the test reads it.
func brief(ev Event) string {
	s := fmt.Sprintf("%s %s %s", ev.Type, ev.Object.GetName(), ev.Object.GetLabels()[VersionLabel])
	if ev.OldObject != nil {
		s += " from " + ev.OldObject.GetLabels()[VersionLabel]
	}
	return s
}

// TestWatcherFollowsTheTriggers adds and removes Triggers while the
// watcher runs, on a fake dynamic client, and checks, step by step,
// what it posts and logs.
func TestWatcherFollowsTheTriggers(t *testing.T) {
	client := fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		TriggersResource: "TriggerList", deploymentsResource: "DeploymentList", servicesResource: "ServiceList",
	},
		trigger("httpbin", watching("httpbin", deploymentsResource, "default")),
		deployment("httpbin", "u-httpbin", "1", "1.0.0", 1),
		deployment("routeguide", "u-routeguide", "1", "1.0.0", 1),
		deployment("unwatched", "u-unwatched", "1", "1.0.0", 1),
	)
	// The fake serves a watch only from when it is asked for: changes
	// made between an informer's list and its watch would be lost, so
	// each step that changes objects waits for the watches first.
	watches := make(chan string, 10)
	client.PrependWatchReactor("*", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := client.Tracker().Watch(action.GetResource(), action.GetNamespace())
		watches <- action.GetResource().Resource
		return true, w, err
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	triggers := client.Resource(TriggersResource).Namespace("autox")
	deployments := client.Resource(deploymentsResource).Namespace("default")
	set := func(name, resourceVersion, version string, replicas int64) {
		t.Helper()
		u := deployment(name, "u-"+name, resourceVersion, version, replicas)
		if _, err := deployments.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(tr *unstructured.Unstructured) {
		t.Helper()
		if _, err := triggers.Create(ctx, tr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(name string) {
		t.Helper()
		if err := triggers.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	events := make(sendTo, 10)
	logs := make(lines, 10)
	w := &Watcher{
		Dynamic:   client,
		Namespace: "autox",
		Access: fakeAccess{
			{widgetsResource, "default"}: errors.New("the API server does not serve widgets.example.com/v1; check the group, version and resource against kubectl api-resources"),
			{servicesResource, "secret"}: errors.New("may not list services/v1 in namespace secret; grant get, list and watch on services to the watcher's ServiceAccount"),
		},
		Send: events,
		Log:  logging.New(logs, slog.LevelInfo),
	}
	done := make(chan error, 1)
	for _, step := range []struct {
		name string
		do   func()
		// wait for the watches of these resources before the next step
		waitWatches []string
		wantEvents  []string
		// in any order: problems are logged as a map yields them
		wantLogs []string
	}{{
		name:        "on start, the current state of the one object named",
		do:          func() { go func() { done <- w.Run(ctx) }() },
		waitWatches: []string{"triggers", "deployments"},
		wantEvents:  []string{"add httpbin 1.0.0"},
		wantLogs: []string{
			"watching the Triggers labelled autox.dev/group in namespace autox",
			"watching deployments.apps/v1 in namespace default: httpbin",
		},
	}, {
		name:       "a version-label change",
		do:         func() { set("httpbin", "2", "2.0.0", 1) },
		wantEvents: []string{"update httpbin 2.0.0 from 1.0.0"},
	}, {
		name: "scaling, and an object no Trigger names: nothing; a Trigger added: the current state of its object",
		do: func() {
			set("httpbin", "3", "2.0.0", 3)
			set("unwatched", "2", "2.0.0", 1)
			create(trigger("routeguide", watching("routeguide", deploymentsResource, "default")))
		},
		wantEvents: []string{"add routeguide 1.0.0"},
		wantLogs:   []string{"watching deployments.apps/v1 in namespace default: httpbin, routeguide"},
	}, {
		name: "a Trigger removed: its object is no longer posted, the other's is",
		do: func() {
			remove("httpbin")
			// Once the rename is logged, httpbin is no longer posted.
			if got := <-logs; got != "watching deployments.apps/v1 in namespace default: routeguide" {
				t.Errorf("log: %q", got)
			}
			set("httpbin", "4", "3.0.0", 3)
			set("routeguide", "2", "2.0.0", 1)
			if err := deployments.Delete(ctx, "routeguide", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		},
		wantEvents: []string{"update routeguide 2.0.0 from 1.0.0", "delete routeguide 2.0.0"},
	}, {
		name:     "the last Trigger of a resource removed: its informer stops",
		do:       func() { remove("routeguide") },
		wantLogs: []string{"stopped watching deployments.apps/v1 in namespace default: no Trigger names it"},
	}, {
		name: "bad Triggers: one line each",
		do: func() {
			create(trigger("widget", watching("w1", widgetsResource, "default")))
			create(trigger("secret", watching("db", servicesResource, "secret")))
			create(trigger("typo", map[string]any{"name": "httpbin", "namespace": "default", "version": "v1", "resource": "deployments", "kind": "Deployment"}))
		},
		wantLogs: []string{
			// The first Trigger may be read alone, then with the others; its line is not repeated.
			"::error::Trigger autox/widget is not watched: the API server does not serve widgets.example.com/v1; check the group, version and resource against kubectl api-resources",
			"::error::Trigger autox/secret is not watched: may not list services/v1 in namespace secret; grant get, list and watch on services to the watcher's ServiceAccount",
			`::error::Trigger autox/typo is not watched: spec.interceptors[0].params[0].value: {"kind":"Deployment","name":"httpbin","namespace":"default","resource":"deployments","version":"v1"} is not a trigger (json: unknown field "kind"); write {name: <object>, namespace: <its namespace>, group: <API group, "" for core>, version: <e.g. v1>, resource: <plural, e.g. deployments>}`,
		},
	}, {
		name:        "with bad Triggers around, a good one works, and the bad ones are not logged again",
		do:          func() { create(trigger("httpbin", watching("httpbin", deploymentsResource, "default"))) },
		waitWatches: []string{"deployments"},
		wantEvents:  []string{"add httpbin 3.0.0"},
		wantLogs:    []string{"watching deployments.apps/v1 in namespace default: httpbin"},
	}, {
		name:       "the new informer posts changes",
		do:         func() { set("httpbin", "5", "4.0.0", 3) },
		wantEvents: []string{"update httpbin 4.0.0 from 3.0.0"},
	}, {
		name: "a bad Trigger fixed; another removed",
		do: func() {
			fixed := trigger("typo", watching("httpbin", deploymentsResource, "default"))
			fixed.SetResourceVersion("2")
			if _, err := triggers.Update(ctx, fixed, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			remove("widget")
		},
		wantLogs: []string{"Trigger autox/typo is watched now"},
	}} {
		t.Logf("step: %s", step.name)
		step.do()
		deadline := time.After(10 * time.Second)
		var gotEvents, gotLogs []string
		for len(gotEvents) < len(step.wantEvents) || len(gotLogs) < len(step.wantLogs) {
			select {
			case ev := <-events:
				gotEvents = append(gotEvents, brief(ev))
			case l := <-logs:
				gotLogs = append(gotLogs, l)
			case err := <-done:
				t.Fatalf("Run ended early: %v", err)
			case <-deadline:
				t.Fatalf("step %q: not all within 10s; events %q, logs %q", step.name, gotEvents, gotLogs)
			}
		}
		for _, resource := range step.waitWatches {
			if got := <-watches; got != resource {
				t.Fatalf("step %q: watch of %s started, want %s", step.name, got, resource)
			}
		}
		if diff := cmp.Diff(step.wantEvents, gotEvents); diff != "" {
			t.Errorf("step %q: events (-want +got):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(step.wantLogs, gotLogs, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("step %q: log lines (-want +got):\n%s", step.name, diff)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	// Nothing more was posted or logged than each step wanted.
	close(events)
	for ev := range events {
		t.Errorf("event not wanted: %s", brief(ev))
	}
	select {
	case l := <-logs:
		t.Errorf("log line not wanted: %s", l)
	default:
	}
}

// TestWatcherResendsTheState checks the level trigger through a real
// informer: on a re-list (the watch expired: 410 Gone) and on a resync,
// the current state of the watched object is posted again, and only its.
func TestWatcherResendsTheState(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resync time.Duration
		// expire ends the first watch of deployments with 410 Gone, so
		// the informer lists again
		expire bool
	}{
		{name: "a re-list", expire: true},
		// client-go resyncs at most once a second.
		{name: "a resync", resync: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
				TriggersResource: "TriggerList", deploymentsResource: "DeploymentList",
			},
				trigger("httpbin", watching("httpbin", deploymentsResource, "default")),
				deployment("httpbin", "u-httpbin", "1", "1.0.0", 1),
				deployment("unwatched", "u-unwatched", "1", "1.0.0", 1),
			)
			expiring := make(chan *watch.FakeWatcher, 1)
			var first atomic.Bool
			client.PrependWatchReactor("deployments", func(action clienttesting.Action) (bool, watch.Interface, error) {
				if tc.expire && first.CompareAndSwap(false, true) {
					fw := watch.NewFake()
					expiring <- fw
					return true, fw, nil
				}
				return false, nil, nil
			})
			ctx, cancel := context.WithCancel(context.Background())
			events := make(sendTo, 10)
			w := &Watcher{Dynamic: client, Namespace: "autox", Access: fakeAccess{}, Resync: tc.resync, Send: events, Log: logging.New(io.Discard, slog.LevelInfo)}
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			want := []string{"add httpbin 1.0.0", "update httpbin 1.0.0"}
			var got []string
			deadline := time.After(10 * time.Second)
			for len(got) < len(want) {
				select {
				case ev := <-events:
					got = append(got, brief(ev))
					if len(got) == 1 && tc.expire {
						fw := <-expiring
						fw.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
					}
				case <-deadline:
					t.Fatalf("not all within 10s; got %q", got)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// grantLater refuses every resource until granted.
type grantLater struct {
	mu      sync.Mutex
	granted bool
}

func (g *grantLater) CanWatch(_ context.Context, r schema.GroupVersionResource, namespace string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.granted || r == TriggersResource {
		return nil
	}
	return fmt.Errorf("may not list %s in namespace %s; grant get, list and watch on %s to the watcher's ServiceAccount", groupResource(r), namespace, r.GroupResource())
}

// TestWatcherAsksAgain: a grant given while the watcher runs takes effect
// without a restart and without a change of the Trigger.
func TestWatcherAsksAgain(t *testing.T) {
	client := fake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		TriggersResource: "TriggerList", deploymentsResource: "DeploymentList",
	},
		trigger("httpbin", watching("httpbin", deploymentsResource, "default")),
		deployment("httpbin", "u-httpbin", "1", "1.0.0", 1),
	)
	access := &grantLater{}
	events := make(sendTo, 10)
	logs := make(lines, 10)
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{Dynamic: client, Namespace: "autox", Access: access, RetryRefused: time.Millisecond, Send: events, Log: logging.New(logs, slog.LevelInfo)}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	wantLogs := []string{
		"watching the Triggers labelled autox.dev/group in namespace autox",
		"::error::Trigger autox/httpbin is not watched: may not list deployments.apps/v1 in namespace default; grant get, list and watch on deployments.apps to the watcher's ServiceAccount",
		// asked again every millisecond, logged once; then granted
		"watching deployments.apps/v1 in namespace default: httpbin",
		"Trigger autox/httpbin is watched now",
	}
	wantEvents := []string{"add httpbin 1.0.0"}
	var gotLogs, gotEvents []string
	deadline := time.After(10 * time.Second)
	for len(gotLogs) < len(wantLogs) || len(gotEvents) < len(wantEvents) {
		select {
		case l := <-logs:
			gotLogs = append(gotLogs, l)
			if strings.HasPrefix(l, "::error::") {
				access.mu.Lock()
				access.granted = true
				access.mu.Unlock()
			}
		case ev := <-events:
			gotEvents = append(gotEvents, brief(ev))
		case <-deadline:
			t.Fatalf("not all within 10s; logs %q, events %q", gotLogs, gotEvents)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if diff := cmp.Diff(wantLogs, gotLogs); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantEvents, gotEvents); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
