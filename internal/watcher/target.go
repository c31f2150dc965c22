package watcher

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TriggersResource is where the watcher learns what to watch.
var TriggersResource = schema.GroupVersionResource{Group: "triggers.tekton.dev", Version: "v1beta1", Resource: "triggers"}

// GroupLabel marks the Triggers of autox groups; the watcher reads only those.
const GroupLabel = "autox.dev/group"

// InterceptorName is the autox ClusterInterceptor; its params on a
// Trigger name the object to watch.
const InterceptorName = "autox"

// resourceKey is what one informer watches: a resource in a namespace.
type resourceKey struct {
	Resource  schema.GroupVersionResource
	Namespace string
}

func (k resourceKey) String() string {
	return fmt.Sprintf("%s in namespace %s", groupResource(k.Resource), k.Namespace)
}

// groupResource names a resource as kubectl does, with its version:
// deployments.apps/v1, or pods/v1 for the core group.
func groupResource(r schema.GroupVersionResource) string {
	if r.Group == "" {
		return r.Resource + "/" + r.Version
	}
	return r.Resource + "." + r.Group + "/" + r.Version
}

// target is the object a Trigger asks to watch.
type target struct {
	resourceKey
	Name string
}

// triggerParam is the value of the interceptor's `trigger` param, as the
// seed writes a group's trigger.
type triggerParam struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Group     string `json:"group"`
	Version   string `json:"version"`
	Resource  string `json:"resource"`
}

const triggerShape = "write {name: <object>, namespace: <its namespace>, group: <API group, \"\" for core>, version: <e.g. v1>, resource: <plural, e.g. deployments>}"

// parseTrigger finds, in a Trigger, the autox interceptor's `trigger`
// param and returns the object it names, or one error that names the
// field, the value and the fix.
func parseTrigger(tr *unstructured.Unstructured) (target, error) {
	interceptors, _, err := unstructured.NestedSlice(tr.Object, "spec", "interceptors")
	if err != nil {
		return target{}, fmt.Errorf("spec.interceptors: %v; write a list of interceptors", err)
	}
	for i, ic := range interceptors {
		m, _ := ic.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "ref", "name")
		kind, _, _ := unstructured.NestedString(m, "ref", "kind")
		if name != InterceptorName || (kind != "ClusterInterceptor" && kind != "") {
			continue
		}
		params, _, err := unstructured.NestedSlice(m, "params")
		if err != nil {
			return target{}, fmt.Errorf("spec.interceptors[%d].params: %v; write a list of {name, value}", i, err)
		}
		for j, pa := range params {
			pm, _ := pa.(map[string]any)
			if pm["name"] != "trigger" {
				continue
			}
			return parseParam(fmt.Sprintf("spec.interceptors[%d].params[%d].value", i, j), pm["value"])
		}
		return target{}, fmt.Errorf("spec.interceptors[%d].params: no param \"trigger\"; add {name: trigger, value: {name, namespace, group, version, resource}} naming the object to watch", i)
	}
	return target{}, fmt.Errorf("spec.interceptors: no interceptor with ref {name: %s, kind: ClusterInterceptor}; add it, with the params group, spec and trigger", InterceptorName)
}

func parseParam(path string, value any) (target, error) {
	raw, err := json.Marshal(value)
	if err != nil {
		return target{}, fmt.Errorf("%s: %v; %s", path, err, triggerShape)
	}
	if _, ok := value.(map[string]any); !ok {
		return target{}, fmt.Errorf("%s: %s is not an object; %s", path, raw, triggerShape)
	}
	var p triggerParam
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return target{}, fmt.Errorf("%s: %s is not a trigger (%v); %s", path, raw, err, triggerShape)
	}
	for _, f := range []struct{ field, value, fix string }{
		{"name", p.Name, "the name of the object to watch"},
		{"namespace", p.Namespace, "the object's namespace (only namespaced objects are watched)"},
		{"version", p.Version, "the API version, e.g. v1"},
		{"resource", p.Resource, "the plural resource, e.g. deployments"},
	} {
		if f.value == "" {
			return target{}, fmt.Errorf("%s.%s: is empty; write %s", path, f.field, f.fix)
		}
	}
	return target{
		resourceKey: resourceKey{
			Resource:  schema.GroupVersionResource{Group: p.Group, Version: p.Version, Resource: p.Resource},
			Namespace: p.Namespace,
		},
		Name: p.Name,
	}, nil
}
