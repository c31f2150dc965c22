// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package contract

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TriggersResource is the Triggers API the watcher and the interceptor read.
var TriggersResource = schema.GroupVersionResource{Group: "triggers.tekton.dev", Version: "v1beta1", Resource: "triggers"}

// Group is one group and spec as its Trigger configures it.
type Group struct {
	// TriggerName, TriggerUID and Namespace are the Trigger object's.
	TriggerName string
	TriggerUID  string
	Namespace   string
	Params
}

// Key is "<group>/<spec>": the record's and the runs' key.
func (g Group) Key() string { return g.Group + "/" + g.Spec }

// FromTrigger reads a group's Trigger: the autox interceptor's params
// (ParseParams), checked against the Trigger's labels. Every problem is
// returned, each naming its field.
func FromTrigger(tr *unstructured.Unstructured) (Group, error) {
	g := Group{TriggerName: tr.GetName(), TriggerUID: string(tr.GetUID()), Namespace: tr.GetNamespace()}
	interceptors, _, err := unstructured.NestedSlice(tr.Object, "spec", "interceptors")
	if err != nil {
		return g, fmt.Errorf("spec.interceptors: %v; write a list of interceptors", err)
	}
	for i, ic := range interceptors {
		m, _ := ic.(map[string]any)
		name, _, _ := unstructured.NestedString(m, "ref", "name")
		kind, _, _ := unstructured.NestedString(m, "ref", "kind")
		if name != InterceptorName || (kind != "ClusterInterceptor" && kind != "") {
			continue
		}
		list, _, err := unstructured.NestedSlice(m, "params")
		if err != nil {
			return g, fmt.Errorf("spec.interceptors[%d].params: %v; write a list of {name, value}", i, err)
		}
		raw := map[string]any{}
		for j, pa := range list {
			pm, _ := pa.(map[string]any)
			pname, _ := pm["name"].(string)
			if pname == "" {
				return g, fmt.Errorf("spec.interceptors[%d].params[%d]: no name; write {name, value}", i, j)
			}
			raw[pname] = pm["value"]
		}
		p, err := ParseParams(raw)
		g.Params = p
		if err != nil {
			return g, err
		}
		var errs []error
		labels := tr.GetLabels()
		if l := labels[GroupLabel]; l != p.Group {
			errs = append(errs, fmt.Errorf("metadata.labels[%s]: %q differs from params.group %q; make them equal", GroupLabel, l, p.Group))
		}
		if l, ok := labels[SpecLabel]; ok && l != p.Spec {
			errs = append(errs, fmt.Errorf("metadata.labels[%s]: %q differs from params.spec %q; make them equal", SpecLabel, l, p.Spec))
		}
		return g, errors.Join(errs...)
	}
	return g, fmt.Errorf("spec.interceptors: no interceptor with ref {name: %s, kind: ClusterInterceptor}; add it, with the params group, spec, trigger and experiment", InterceptorName)
}

// GVR is the object's resource.
func (o Object) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: o.Group, Version: o.Version, Resource: o.Resource}
}

// APIVersion is group/version, or version for the core group.
func (o Object) APIVersion() string {
	if o.Group == "" {
		return o.Version
	}
	return o.Group + "/" + o.Version
}

// String names the trigger object as its params do.
func (o Object) String() string {
	return fmt.Sprintf("%s %s %s/%s", o.APIVersion(), o.Resource, o.Namespace, o.Name)
}

// Matches says whether an event's object is o (Mismatch says why not).
func (o Object) Matches(ref ObjectRef) bool { return o.Mismatch(ref) == "" }

// Mismatch says why an event's object is not o, "" when it is: its name,
// namespace and apiVersion must be o's, and its kind the kind of o's
// resource, whole (Deployment for deployments, NetworkPolicy for
// networkpolicies; case aside, as a resource has none): name, namespace
// and apiVersion already single the object out but for two kinds of one
// API group with one name.
func (o Object) Mismatch(ref ObjectRef) string {
	switch {
	case ref.Metadata.Name != o.Name:
		return fmt.Sprintf("name %s is not %q", Quote(ref.Metadata.Name), o.Name)
	case ref.Metadata.Namespace != o.Namespace:
		return fmt.Sprintf("namespace %s is not %q", Quote(ref.Metadata.Namespace), o.Namespace)
	case ref.APIVersion != o.APIVersion():
		return fmt.Sprintf("apiVersion %s is not %q", Quote(ref.APIVersion), o.APIVersion())
	}
	if !slices.Contains(resourcesOf(ref.Kind), o.Resource) {
		return fmt.Sprintf("kind %s is not the kind of %s: its lower-case form plus s, es or (for a y) ies must be %q, e.g. %s", Quote(ref.Kind), o.Resource, o.Resource, kindOf(o.Resource))
	}
	return ""
}

// resourcesOf are the resource names a kind may have, as Kubernetes
// names resources: the kind in lower case, plus s or es, or with its y
// as ies; or the kind itself (endpoints).
func resourcesOf(kind string) []string {
	if kind == "" {
		return nil
	}
	k := strings.ToLower(kind)
	out := []string{k, k + "s", k + "es"}
	if y, ok := strings.CutSuffix(k, "y"); ok {
		out = append(out, y+"ies")
	}
	return out
}

// kindOf guesses a resource's kind, for messages: deployments ->
// Deployment, networkpolicies -> Networkpolicy (the case of the words
// is the kind's own).
func kindOf(resource string) string {
	k := resource
	switch {
	case strings.HasSuffix(k, "ies"):
		k = strings.TrimSuffix(k, "ies") + "y"
	case strings.HasSuffix(k, "sses"), strings.HasSuffix(k, "xes"):
		k = strings.TrimSuffix(k, "es")
	case strings.HasSuffix(k, "s") && !strings.HasSuffix(k, "ss"):
		k = strings.TrimSuffix(k, "s")
	}
	if k == "" {
		return "Deployment"
	}
	return strings.ToUpper(k[:1]) + k[1:]
}
