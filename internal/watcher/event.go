package watcher

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// VersionLabel is the label whose changes launch experiments.
const VersionLabel = "app.kubernetes.io/version"

// Event types, as the EventListener receives them.
const (
	Add    = "add"
	Update = "update"
	Delete = "delete"
)

// Event is what is posted to the EventListener for one object: its type,
// the object as the watcher last saw it and, for a version-label change,
// the object before it.
type Event struct {
	Type      string                     `json:"type"`
	Object    *unstructured.Unstructured `json:"object"`
	OldObject *unstructured.Unstructured `json:"oldObject,omitempty"`
}

// ID names this state of the object: its uid and resourceVersion, so the
// same state posted twice (a resync, a retry) carries the same id.
func (e Event) ID() string {
	return string(e.Object.GetUID()) + "-" + e.Object.GetResourceVersion()
}

// onAdd is an object listed (on start, or on a re-list that finds it
// new) or created: its current state is always posted.
func onAdd(obj *unstructured.Unstructured) Event {
	return Event{Type: Add, Object: obj}
}

// onUpdate decides what an informer's update is worth posting. The same
// resourceVersion on both sides is a resync or a re-list that found the
// object unchanged: its current state is posted, with no old object, as
// the level-triggered design asks. A change of the version label (set,
// changed or removed) is posted with the old object. Any other change
// (image, replicas, other labels, status) is not.
func onUpdate(old, obj *unstructured.Unstructured) (Event, bool) {
	if old.GetResourceVersion() == obj.GetResourceVersion() {
		return Event{Type: Update, Object: obj}, true
	}
	was, wasSet := old.GetLabels()[VersionLabel]
	is, isSet := obj.GetLabels()[VersionLabel]
	if was == is && wasSet == isSet {
		return Event{}, false
	}
	return Event{Type: Update, Object: obj, OldObject: old}, true
}

// onDelete is an object deleted: the last state the informer knew is
// posted. A deletion missed while the watch was down arrives from the
// re-list wrapped in a DeletedFinalStateUnknown.
func onDelete(obj any) (Event, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return Event{}, false
	}
	return Event{Type: Delete, Object: u}, true
}

// merge coalesces two events of one object not yet posted into one: the
// newer state wins, and a change keeps the old object of the earlier
// event, so the pair reads as one change from the first state to the
// last. An add followed by updates is still an add.
func merge(earlier, later Event) Event {
	switch {
	case later.Type == Delete:
		return later
	case earlier.Type == Add:
		return Event{Type: Add, Object: later.Object}
	case earlier.OldObject != nil && later.Type == Update:
		return Event{Type: Update, Object: later.Object, OldObject: earlier.OldObject}
	}
	return later
}
