// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package generate

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/autox-tekton/autox/internal/contract"
)

// SystemNamespace is where autox's controllers run: the Triggers go there.
const SystemNamespace = "autox-system"

// Namespace is where the runs go: the experiment's ServiceAccount autox
// lives there.
const Namespace = "autox"

// experimentOrder is the order of an experiment's top-level keys in the
// output, as people write them; other keys follow, sorted.
var experimentOrder = []string{"tasks", "ready", "http", "grpc", "assess"}

// A kind's read rule, as a ClusterRole aggregated into autox-watched (the
// watcher and the interceptor) or autox-ready (the ready step).
type kind struct{ group, resource string }

func (k kind) String() string {
	if k.group == "" {
		return k.resource
	}
	return k.resource + "." + k.group
}

// The kinds the install's ClusterRoles already grant
// (triggers/rbac.yaml, triggers/runs-rbac.yaml).
var (
	installedWatched = []kind{{"apps", "deployments"}}
	installedReady   = []kind{{"apps", "deployments"}, {"", "pods"}, {"", "services"}, {"discovery.k8s.io", "endpointslices"},
		{"serving.knative.dev", "services"}, {"serving.kserve.io", "inferenceservices"}}
)

// render writes one Trigger per spec, in order; then a ClusterRole for
// each kind the install does not grant yet (sorted), aggregated into
// autox-watched or autox-ready; then per namespace of the trigger and
// ready objects (sorted) the RoleBindings that let the watcher and the
// interceptor (autox-watched) and the runs (autox-ready) read there, and
// nothing more: the shape of triggers/examples/*.yaml.
func render(specs []Spec) ([]byte, error) {
	var docs []*yaml.Node
	watchedIn, readyIn := map[string]bool{}, map[string]bool{}
	var watchedKinds, readyKinds []kind
	for _, s := range specs {
		docs = append(docs, trigger(s))
		o := s.Trigger
		watchedIn[o.Namespace] = true
		readyIn[o.Namespace] = true
		if ns := readyNamespace(s.Experiment); ns != "" {
			readyIn[ns] = true
		}
		if k := (kind{o.Group, o.Resource}); !slices.Contains(installedWatched, k) && !slices.Contains(watchedKinds, k) {
			watchedKinds = append(watchedKinds, k)
		}
		for _, k := range readyObjectKinds(s.Experiment) {
			if !slices.Contains(installedReady, k) && !slices.Contains(readyKinds, k) {
				readyKinds = append(readyKinds, k)
			}
		}
	}
	byName := func(a, b kind) int { return strings.Compare(a.String(), b.String()) }
	slices.SortFunc(watchedKinds, byName)
	slices.SortFunc(readyKinds, byName)
	for _, k := range watchedKinds {
		docs = append(docs, readRole("autox-watched-"+k.String(), "autox.dev/aggregate-to-watched", k))
	}
	for _, k := range readyKinds {
		docs = append(docs, readRole("autox-ready-"+k.String(), "autox.dev/aggregate-to-ready", k))
	}
	namespaces := slices.Sorted(maps.Keys(readyIn))
	for _, ns := range namespaces {
		if watchedIn[ns] {
			docs = append(docs, roleBinding(ns, "autox-watched",
				mapping("kind", "ServiceAccount", "name", "autox-watcher", "namespace", SystemNamespace),
				mapping("kind", "ServiceAccount", "name", "autox-interceptor", "namespace", SystemNamespace)))
		}
		docs = append(docs, roleBinding(ns, "autox-ready", mapping("kind", "ServiceAccount", "name", "autox", "namespace", Namespace)))
	}
	var out bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			out.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("writing the YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("writing the YAML: %w", err)
		}
	}
	return out.Bytes(), nil
}

// readyNamespace is the experiment's ready.namespace, if it names one.
func readyNamespace(exp map[string]any) string {
	ready, _ := exp["ready"].(map[string]any)
	ns, _ := ready["namespace"].(string)
	return ns
}

// readyObjectKinds are the kinds of the experiment's ready.objects.
func readyObjectKinds(exp map[string]any) []kind {
	ready, _ := exp["ready"].(map[string]any)
	objs, _ := ready["objects"].([]any)
	var out []kind
	for _, o := range objs {
		m, _ := o.(map[string]any)
		g, _ := m["group"].(string)
		r, _ := m["resource"].(string)
		if r != "" {
			out = append(out, kind{g, r})
		}
	}
	return out
}

func trigger(s Spec) *yaml.Node {
	o := s.Trigger
	object := mapping("name", o.Name, "namespace", o.Namespace, "group", o.Group, "version", o.Version, "resource", o.Resource)
	object.Style = yaml.FlowStyle
	param := func(name string, value any) *yaml.Node { return mapping("name", name, "value", value) }
	return mapping(
		"apiVersion", "triggers.tekton.dev/v1beta1",
		"kind", "Trigger",
		"metadata", mapping(
			"name", contract.GroupName(s.Group, s.Spec),
			"namespace", SystemNamespace,
			"labels", mapping(contract.GroupLabel, s.Group, contract.SpecLabel, s.Spec),
		),
		"spec", mapping(
			"interceptors", sequence(mapping(
				"name", contract.InterceptorName,
				"ref", mapping("name", contract.InterceptorName, "kind", "ClusterInterceptor"),
				"params", sequence(
					param("group", s.Group),
					param("spec", s.Spec),
					param("trigger", object),
					param("experiment", experimentNode(s.Experiment)),
				),
			)),
			"bindings", sequence(mapping("ref", "autox")),
			"template", mapping("ref", "autox"),
		),
	)
}

// readRole is a ClusterRole that reads one kind, labelled to join the
// aggregated ClusterRole that label selects.
func readRole(name, aggregateLabel string, k kind) *yaml.Node {
	return mapping(
		"apiVersion", "rbac.authorization.k8s.io/v1",
		"kind", "ClusterRole",
		"metadata", mapping(
			"name", name,
			"labels", mapping(aggregateLabel, "true", "app.kubernetes.io/part-of", "autox"),
		),
		"rules", sequence(mapping(
			"apiGroups", flow(k.group),
			"resources", flow(k.resource),
			"verbs", flow("get", "list", "watch"),
		)),
	)
}

func flow(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: it, Style: yaml.DoubleQuotedStyle})
	}
	return n
}

// roleBinding binds the aggregated ClusterRole name in namespace: a
// RoleBinding, so the rights hold there only.
func roleBinding(namespace, name string, subjects ...*yaml.Node) *yaml.Node {
	return mapping(
		"apiVersion", "rbac.authorization.k8s.io/v1",
		"kind", "RoleBinding",
		"metadata", mapping(
			"name", name,
			"namespace", namespace,
			"labels", mapping("app.kubernetes.io/part-of", "autox"),
		),
		"roleRef", mapping("apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", name),
		"subjects", sequence(subjects...),
	)
}

// experimentNode writes the experiment with its sections in the usual
// order and everything below sorted.
func experimentNode(m map[string]any) *yaml.Node {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) })
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		n.Content = append(n.Content, scalar(k), valueNode(m[k]))
	}
	return n
}

func rank(key string) int {
	if i := slices.Index(experimentOrder, key); i >= 0 {
		return i
	}
	return len(experimentOrder)
}

// valueNode writes a values tree: maps with sorted keys, in flow style
// when small and flat ({url: ..., payloadStr: ...}), lists of plain values
// in flow style ([ready, http, assess]).
func valueNode(v any) *yaml.Node {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		flat := len(v) <= 3
		for _, k := range sortedKeys(v) {
			c := valueNode(v[k])
			flat = flat && c.Kind == yaml.ScalarNode
			n.Content = append(n.Content, scalar(k), c)
		}
		if flat && len(v) > 0 {
			n.Style = yaml.FlowStyle
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, e := range v {
			c := valueNode(e)
			if c.Kind != yaml.ScalarNode {
				n.Style = 0
			}
			n.Content = append(n.Content, c)
		}
		return n
	}
	return scalar(v)
}

// mapping makes a mapping node of key, value pairs; a value is a node or
// a plain value.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		v, ok := kv[i+1].(*yaml.Node)
		if !ok {
			v = scalar(kv[i+1])
		}
		n.Content = append(n.Content, scalar(kv[i]), v)
	}
	return n
}

func sequence(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

// scalar encodes one plain value; yaml quotes strings that would read as
// another type ("true", "0.5", "").
func scalar(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		// Only strings, numbers, booleans and null reach here.
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v)}
	}
	return &n
}
