package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Event types. They are for logs: the interceptor decides from the
// object as the cluster holds it, whatever the event says.
const (
	Add    = "add"
	Update = "update"
	Delete = "delete"
	// Resync is the watcher asking again because the record does not
	// show the object's version yet (or a periodic re-send).
	Resync = "resync"
)

// Event is what the watcher posts to the EventListener: "look at this
// object for this Trigger now". It carries the object's metadata only
// (no spec, status or managedFields), and of its labels only the version
// label: a hint of what changed, never the fact.
//
//	{"type": "update", "trigger": "autox-httpbin-iter8",
//	 "object": {"apiVersion": "apps/v1", "kind": "Deployment",
//	            "metadata": {"name": "httpbin", "namespace": "default", "uid": "...",
//	                         "resourceVersion": "123", "labels": {"app.kubernetes.io/version": "2.0.0"}}}}
type Event struct {
	Type string `json:"type"`
	// Trigger names the group's Trigger (in the EventListener's namespace).
	Trigger string    `json:"trigger"`
	Object  ObjectRef `json:"object"`
}

// ObjectRef is a trigger object as an event names it.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   Meta   `json:"metadata"`
}

// Meta is the part of an object's metadata an event carries.
type Meta struct {
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace,omitempty"`
	UID             string            `json:"uid,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// Version is the version label the event saw ("" when none).
func (o ObjectRef) Version() string { return o.Metadata.Labels[VersionLabel] }

// String names the object as kubectl would: apps/v1 Deployment default/httpbin.
func (o ObjectRef) String() string {
	return fmt.Sprintf("%s %s %s/%s", o.APIVersion, o.Kind, o.Metadata.Namespace, o.Metadata.Name)
}

// ID names this state of the object, for logs: uid-resourceVersion.
func (e Event) ID() string { return e.Object.Metadata.UID + "-" + e.Object.Metadata.ResourceVersion }

var eventFields = []string{"type", "trigger", "object"}

// ParseEvent reads the watcher's body, refusing unknown fields; every
// error names the field and says what is wanted.
func ParseEvent(body []byte) (Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		if strings.HasPrefix(err.Error(), `json: unknown field "`) {
			return Event{}, fmt.Errorf("body: %s; the body is {type, trigger, object}", jsonProblem(err, eventFields, "", nil))
		}
		return Event{}, fmt.Errorf("body is not JSON: %s", jsonProblem(err, nil, "", nil))
	}
	switch ev.Type {
	case Add, Update, Delete, Resync:
	case "":
		return Event{}, errors.New(`body: type is missing; want "add", "update", "delete" or "resync"`)
	default:
		return Event{}, fmt.Errorf(`body: type %q is not "add", "update", "delete" or "resync"`, ev.Type)
	}
	switch {
	case ev.Trigger == "":
		return Event{}, errors.New("body: trigger is missing; name the group's Trigger, e.g. autox-httpbin-iter8")
	case ev.Object.Metadata.Name == "":
		return Event{}, errors.New("body: object.metadata.name is missing")
	case ev.Object.APIVersion == "" || ev.Object.Kind == "":
		return Event{}, errors.New("body: object has no apiVersion or kind; send them as the API server serves the object")
	}
	return ev, nil
}
