package generate

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/autox-tekton/autox/internal/contract"
)

// Namespace is where autox is installed: the Triggers go there, and the
// experiment's ServiceAccount autox lives there.
const Namespace = "autox"

// experimentOrder is the order of an experiment's top-level keys in the
// output, as people write them; other keys follow, sorted.
var experimentOrder = []string{"tasks", "ready", "http", "grpc", "assess"}

// render writes one Trigger per spec, in order, then one RoleBinding per
// namespace of the trigger objects, sorted: the shape of
// triggers/examples/*.yaml.
func render(specs []Spec) ([]byte, error) {
	var docs []*yaml.Node
	var namespaces []string
	for _, s := range specs {
		docs = append(docs, trigger(s))
		if !slices.Contains(namespaces, s.Trigger.Namespace) {
			namespaces = append(namespaces, s.Trigger.Namespace)
		}
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		docs = append(docs, roleBinding(ns))
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
			"namespace", Namespace,
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

func roleBinding(namespace string) *yaml.Node {
	return mapping(
		"apiVersion", "rbac.authorization.k8s.io/v1",
		"kind", "RoleBinding",
		"metadata", mapping(
			"name", "autox-experiment",
			"namespace", namespace,
			"labels", mapping("app.kubernetes.io/part-of", "autox"),
		),
		"roleRef", mapping("apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", "autox-experiment"),
		"subjects", sequence(mapping("kind", "ServiceAccount", "name", "autox", "namespace", Namespace)),
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
