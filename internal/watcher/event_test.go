package watcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// deployment is a watched object as an informer holds it; version "" means
// no version label; labels adds others (key, value, ...).
func deployment(name, uid, resourceVersion, version string, replicas int64, labels ...string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name": name, "namespace": "default", "uid": uid, "resourceVersion": resourceVersion,
		},
		"spec": map[string]any{"replicas": replicas},
	}}
	l := map[string]string{}
	if version != "" {
		l[VersionLabel] = version
	}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	if len(l) > 0 {
		u.SetLabels(l)
	}
	return u
}

func TestOnUpdate(t *testing.T) {
	v1 := deployment("httpbin", "u1", "10", "1.0.0", 1)
	for _, tc := range []struct {
		name     string
		old, obj *unstructured.Unstructured
		want     *Event // nil: nothing posted
	}{{
		name: "version label changed",
		old:  v1,
		obj:  deployment("httpbin", "u1", "11", "2.0.0", 1),
		want: &Event{Type: Update, Object: deployment("httpbin", "u1", "11", "2.0.0", 1), OldObject: v1},
	}, {
		name: "version label set",
		old:  deployment("httpbin", "u1", "9", "", 1),
		obj:  v1,
		want: &Event{Type: Update, Object: v1, OldObject: deployment("httpbin", "u1", "9", "", 1)},
	}, {
		name: "version label removed",
		old:  v1,
		obj:  deployment("httpbin", "u1", "11", "", 1),
		want: &Event{Type: Update, Object: deployment("httpbin", "u1", "11", "", 1), OldObject: v1},
	}, {
		name: "version label set to empty",
		old:  deployment("httpbin", "u1", "10", "", 1),
		obj:  deployment("httpbin", "u1", "11", "", 1, VersionLabel, ""),
		want: &Event{Type: Update, Object: deployment("httpbin", "u1", "11", "", 1, VersionLabel, ""), OldObject: deployment("httpbin", "u1", "10", "", 1)},
	}, {
		name: "replicas changed: nothing",
		old:  v1,
		obj:  deployment("httpbin", "u1", "11", "1.0.0", 3),
	}, {
		name: "another label changed: nothing",
		old:  v1,
		obj:  deployment("httpbin", "u1", "11", "1.0.0", 1, "team", "blue"),
	}, {
		name: "resync or re-list, same resourceVersion: the current state",
		old:  v1,
		obj:  v1,
		want: &Event{Type: Update, Object: v1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok := onUpdate(tc.old, tc.obj)
			var got *Event
			if ok {
				got = &ev
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("onUpdate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOnAddAndDelete(t *testing.T) {
	v1 := deployment("httpbin", "u1", "10", "1.0.0", 1)
	for _, tc := range []struct {
		name string
		got  func() (Event, bool)
		want Event
	}{{
		name: "listed or created: the current state",
		got:  func() (Event, bool) { return onAdd(v1), true },
		want: Event{Type: Add, Object: v1},
	}, {
		name: "deleted: the last state",
		got:  func() (Event, bool) { return onDelete(v1) },
		want: Event{Type: Delete, Object: v1},
	}, {
		name: "deleted while the watch was down: the last state known",
		got: func() (Event, bool) {
			return onDelete(cache.DeletedFinalStateUnknown{Key: "default/httpbin", Obj: v1})
		},
		want: Event{Type: Delete, Object: v1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.got()
			if !ok {
				t.Fatal("nothing to post")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	v1 := deployment("httpbin", "u1", "10", "1.0.0", 1)
	v2 := deployment("httpbin", "u1", "11", "2.0.0", 1)
	v3 := deployment("httpbin", "u1", "12", "3.0.0", 1)
	for _, tc := range []struct {
		name           string
		earlier, later Event
		want           Event
	}{{
		name:    "two changes read as one, from the first state to the last",
		earlier: Event{Type: Update, Object: v2, OldObject: v1},
		later:   Event{Type: Update, Object: v3, OldObject: v2},
		want:    Event{Type: Update, Object: v3, OldObject: v1},
	}, {
		name:    "a resync after a change keeps the change",
		earlier: Event{Type: Update, Object: v2, OldObject: v1},
		later:   Event{Type: Update, Object: v2},
		want:    Event{Type: Update, Object: v2, OldObject: v1},
	}, {
		name:    "a change after a resync",
		earlier: Event{Type: Update, Object: v1},
		later:   Event{Type: Update, Object: v2, OldObject: v1},
		want:    Event{Type: Update, Object: v2, OldObject: v1},
	}, {
		name:    "an add then a change is an add of the latest state",
		earlier: Event{Type: Add, Object: v1},
		later:   Event{Type: Update, Object: v2, OldObject: v1},
		want:    Event{Type: Add, Object: v2},
	}, {
		name:    "a deletion wins",
		earlier: Event{Type: Update, Object: v2, OldObject: v1},
		later:   Event{Type: Delete, Object: v2},
		want:    Event{Type: Delete, Object: v2},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, merge(tc.earlier, tc.later)); diff != "" {
				t.Errorf("merge (-want +got):\n%s", diff)
			}
		})
	}
}
