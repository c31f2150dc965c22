package interceptor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/autox-tekton/autox/internal/decide"
)

// Event types of the watcher's body (notes/i9-contract.md).
const (
	Add    = "add"
	Update = "update"
	Delete = "delete"
)

// Knative ApiServerSource event types (mode: Resource); mode Reference
// sends ...apiserver.ref.* with no labels.
const (
	ceTypePrefix    = "dev.knative.apiserver.resource."
	ceRefTypePrefix = "dev.knative.apiserver.ref."
)

// watcherEvent is the body cmd/watcher posts.
type watcherEvent struct {
	Type      string          `json:"type"`
	Object    json.RawMessage `json:"object"`
	OldObject json.RawMessage `json:"oldObject"`
}

// object is what the interceptor reads of a Kubernetes object.
type object struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   *metadata `json:"metadata"`
}

type metadata struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

// event is a parsed body, from either sender.
type event struct {
	Type   string
	Object object
	// Old is the old object, when the sender has it (the watcher's updates).
	Old *object
	// Source says who sent it, for logs: "watcher" or "ApiServerSource".
	Source string
}

// parseEvent reads the body: an ApiServerSource CloudEvent when the
// headers carry Ce-Type, else the watcher's {type, object, oldObject}.
func parseEvent(body string, header http.Header) (event, error) {
	if ceType := header.Get("Ce-Type"); ceType != "" {
		return parseCloudEvent(body, ceType)
	}
	var w watcherEvent
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		if strings.HasPrefix(err.Error(), `json: unknown field "`) {
			return event{}, fmt.Errorf("body: %s; the body is {type, object, oldObject}, or a Knative ApiServerSource CloudEvent with a Ce-Type header", jsonProblem(err, []string{"type", "object", "oldObject"}, "", nil))
		}
		return event{}, fmt.Errorf("body is not JSON: %s", jsonProblem(err, nil, "", nil))
	}
	ev := event{Type: w.Type, Source: "watcher"}
	switch w.Type {
	case Add, Update, Delete:
	case "":
		return event{}, errors.New(`body: type is missing; want "add", "update" or "delete"`)
	default:
		return event{}, fmt.Errorf(`body: type %q is not "add", "update" or "delete"`, w.Type)
	}
	if isNull(w.Object) {
		return event{}, errors.New("body: object is missing; the body is {type, object, oldObject} with object the full Kubernetes object")
	}
	obj, err := parseObject(w.Object, "object")
	if err != nil {
		return event{}, err
	}
	ev.Object = obj
	if !isNull(w.OldObject) {
		old, err := parseObject(w.OldObject, "oldObject")
		if err != nil {
			return event{}, err
		}
		ev.Old = &old
	}
	return ev, nil
}

func parseCloudEvent(body, ceType string) (event, error) {
	if strings.HasPrefix(ceType, ceRefTypePrefix) {
		return event{}, fmt.Errorf("Ce-Type %q is a reference event, which carries no labels; set the ApiServerSource's mode to Resource", ceType)
	}
	typ, ok := strings.CutPrefix(ceType, ceTypePrefix)
	if !ok || (typ != Add && typ != Update && typ != Delete) {
		return event{}, fmt.Errorf("Ce-Type %q is not an ApiServerSource resource event; want %sadd, update or delete", ceType, ceTypePrefix)
	}
	if strings.TrimSpace(body) == "" {
		return event{}, fmt.Errorf("body: object is missing; an ApiServerSource %s event carries the object as its body", typ)
	}
	obj, err := parseObject(json.RawMessage(body), "body")
	if err != nil {
		return event{}, err
	}
	return event{Type: typ, Object: obj, Source: "ApiServerSource"}, nil
}

func parseObject(raw json.RawMessage, field string) (object, error) {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return o, fmt.Errorf("%s is not JSON: %v", field, err)
		}
		return o, fmt.Errorf("%s is not a Kubernetes object: %s", field, jsonProblem(err, nil, "", nil))
	}
	switch {
	case o.Metadata == nil:
		return o, fmt.Errorf("%s has no metadata; send the full object (apiVersion, kind, metadata, ...)", field)
	case o.Metadata.Name == "":
		return o, fmt.Errorf("%s.metadata.name is missing", field)
	case o.APIVersion == "" || o.Kind == "":
		// A typed client drops them; the watcher's dynamic informers and
		// ApiServerSource keep them, and matching the trigger needs them.
		return o, fmt.Errorf("%s has no apiVersion or kind; send the object as the API server serves it", field)
	}
	return o, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// version is the object's version label ("" when absent).
func (o object) version() string { return o.Metadata.Labels[decide.VersionLabel] }

// String names the object as kubectl would: apps/v1 Deployment default/httpbin.
func (o object) String() string {
	return fmt.Sprintf("%s %s %s/%s", o.APIVersion, o.Kind, o.Metadata.Namespace, o.Metadata.Name)
}

// matches says whether o is the trigger object t. The kind is compared
// with the resource by spelling (deployments ~ Deployment, policies ~
// Policy): asking the API server's discovery per event would be a call
// per event, and name, namespace and apiVersion already single the
// object out but for two kinds of one API group with one name.
func (o object) matches(t Object) bool {
	apiVersion := t.Version
	if t.Group != "" {
		apiVersion = t.Group + "/" + t.Version
	}
	kind := strings.TrimSuffix(strings.ToLower(o.Kind), "y")
	return o.Metadata.Name == t.Name && o.Metadata.Namespace == t.Namespace &&
		o.APIVersion == apiVersion && strings.HasPrefix(strings.ToLower(t.Resource), kind)
}

// String names the trigger object as its params do.
func (t Object) String() string {
	gv := t.Version
	if t.Group != "" {
		gv = t.Group + "/" + t.Version
	}
	return fmt.Sprintf("%s %s %s/%s", gv, t.Resource, t.Namespace, t.Name)
}
