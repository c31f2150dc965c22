// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/bundle"
	"github.com/autox-tekton/autox/internal/contract"
)

// document is one object of the resolved file, kept as a YAML node so
// that what the release does not change is written back as it was read
// (comments, key order, scalar styles: a $(tt.params.x) stays plain).
type document struct {
	node *yaml.Node // the DocumentNode
	root *yaml.Node // its mapping
	// line is where the object begins in the file.
	line int

	apiVersion, kind, name, namespace string
}

// who names the object for people: Task autox-experiment (line 120).
func (d *document) who() string {
	return fmt.Sprintf("%s %s (line %d)", d.kind, d.name, d.line)
}

// catalog reports whether the object is one of the catalog's kinds.
func (d *document) catalog() bool {
	group, _, _ := strings.Cut(d.apiVersion, "/")
	switch d.kind {
	case bundle.KindStepAction, bundle.KindTask, bundle.KindPipeline:
		return group == "tekton.dev"
	}
	return false
}

// parse reads every object of a multi-document YAML file; empty
// documents are dropped.
func parse(source string, data []byte) ([]*document, error) {
	var problems []badinput.FieldError
	add := func(path, format string, args ...any) {
		problems = append(problems, badinput.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	bad := func(path, format string, args ...any) error {
		add(path, format, args...)
		return &badinput.Error{Source: source, Problems: problems}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bad("", "not YAML (%s); give the file ko resolve wrote", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].ShortTag() == "!!null") {
			continue
		}
		root := n.Content[0]
		where := fmt.Sprintf("line %d", root.Line)
		if root.Kind != yaml.MappingNode {
			add(where, "a document that is not a mapping; each document is one Kubernetes object")
			continue
		}
		d := &document{node: &n, root: root, line: root.Line}
		var missing []string
		for _, f := range []struct {
			path string
			dst  *string
		}{{"apiVersion", &d.apiVersion}, {"kind", &d.kind}, {"metadata.name", &d.name}} {
			if *f.dst = scalar(root, strings.Split(f.path, ".")...); *f.dst == "" {
				missing = append(missing, f.path)
			}
		}
		if len(missing) > 0 {
			add(where, "an object without %s; each document is one Kubernetes object", strings.Join(missing, ", "))
			continue
		}
		d.namespace = scalar(root, "metadata", "namespace")
		docs = append(docs, d)
	}
	if len(problems) > 0 {
		return nil, &badinput.Error{Source: source, Problems: problems}
	}
	if len(docs) == 0 {
		return nil, bad("", "no object; give the file ko resolve wrote")
	}
	return docs, nil
}

// planned is what the release will do, checked before anything is
// pushed.
type planned struct {
	docs []*document
	// catalog are the StepActions, Tasks and Pipeline, in file order.
	catalog []*document
	// objects are their bundles' content: the objects as resolved, with
	// no namespace.
	objects []bundle.Object
	// pipelines are the release's Pipelines' names (autox, and
	// autox-workers for runs with workers).
	pipelines []string
	// pipelineRefs are the TriggerTemplate's pipelineRef nodes to rewrite
	// (with PipelineFromBundle), each with the Pipeline it names.
	pipelineRefs []pipelineRef
	version      string
}

// plan checks docs against cfg and returns every problem at once. It takes
// the catalog objects' namespace away (each had none, or cfg.Namespace):
// render sets it back.
func plan(cfg Config, docs []*document) (*planned, error) {
	p := &planned{docs: docs}
	var problems []badinput.FieldError
	add := func(path, format string, args ...any) {
		problems = append(problems, badinput.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for _, d := range docs {
		if !d.catalog() {
			continue
		}
		if d.namespace != "" && d.namespace != cfg.Namespace {
			add(d.who()+": metadata.namespace", "%q differs from -namespace %q; a catalog object carries no namespace (the release sets it): remove it from the %s's YAML",
				d.namespace, cfg.Namespace, d.kind)
		}
		remove(mapping(d.root, "metadata"), "namespace")
		y, err := yaml.Marshal(d.node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.who(), err)
		}
		j, err := sigsyaml.YAMLToJSON(y)
		if err != nil {
			add(d.who(), "not read as Kubernetes reads it (%v); fix its YAML", err)
			continue
		}
		o, err := bundle.NewObject(j)
		if err != nil {
			add(d.who(), "%v", err)
			continue
		}
		p.catalog = append(p.catalog, d)
		p.objects = append(p.objects, o)
		if d.kind == bundle.KindPipeline {
			p.pipelines = append(p.pipelines, d.name)
		}
	}
	if len(p.pipelines) == 0 {
		add("", "no Pipeline; the release bundles its Pipelines, which the ConfigMap %s names: give ko resolve pipelines/ too", BundlesConfigMap)
	}
	if err := bundle.Check(p.objects); err != nil {
		var ie *badinput.Error
		if !errors.As(err, &ie) {
			return nil, err
		}
		problems = append(problems, ie.Problems...)
	}
	if cfg.PipelineFrom == PipelineFromBundle && len(p.pipelines) > 0 {
		refs, probs := pipelineRefs(docs, p.pipelines)
		p.pipelineRefs = refs
		problems = append(problems, probs...)
	}
	if len(problems) > 0 {
		return nil, &badinput.Error{Source: cfg.In, Problems: problems}
	}
	p.version, _ = bundle.Version(p.objects) // checked by bundle.Check
	return p, nil
}

// pipelineRef is a TriggerTemplate's pipelineRef node and the release's
// Pipeline it names, or the TriggerTemplate param that names it
// ($(tt.params.pipeline): the interceptor picks the Pipeline per run).
type pipelineRef struct {
	node     *yaml.Node
	pipeline string
}

// byParam says whether a pipelineRef's name is a TriggerTemplate param.
func (r pipelineRef) byParam() bool { return ttParam.MatchString(r.pipeline) }

var ttParam = regexp.MustCompile(`^\$\(tt\.params\.[A-Za-z0-9_-]+\)$`)

// pipelineRefs finds, in the TriggerTemplate autox, each PipelineRun
// resource template's `pipelineRef: {name: <pipeline>}`, which must name
// one of the release's pipelines, or be a TriggerTemplate param
// ($(tt.params.pipeline)): the Pipelines share one bundle, so that the
// bundles resolver finds the one the param names in it.
func pipelineRefs(docs []*document, pipelines []string) ([]pipelineRef, []badinput.FieldError) {
	var refs []pipelineRef
	var problems []badinput.FieldError
	found := false
	for _, d := range docs {
		group, _, _ := strings.Cut(d.apiVersion, "/")
		if d.kind != "TriggerTemplate" || group != "triggers.tekton.dev" || d.name != TriggerTemplate {
			continue
		}
		found = true
		templates := value(mapping(d.root, "spec"), "resourcetemplates")
		if templates == nil || templates.Kind != yaml.SequenceNode {
			continue
		}
		for i, t := range templates.Content {
			if scalar(t, "kind") != "PipelineRun" {
				continue
			}
			ref := value(mapping(t, "spec"), "pipelineRef")
			if ref == nil || ref.Kind != yaml.MappingNode || value(ref, "resolver") != nil {
				continue
			}
			name := scalar(ref, "name")
			if !slices.Contains(pipelines, name) && !ttParam.MatchString(name) {
				problems = append(problems, badinput.FieldError{
					Path: fmt.Sprintf("%s: spec.resourcetemplates[%d].spec.pipelineRef.name", d.who(), i),
					Message: fmt.Sprintf("%q is not a Pipeline of the release (%s) nor a param ($(tt.params.pipeline)); with -pipeline-from %s the PipelineRun takes the Pipelines' bundle: name one",
						name, strings.Join(pipelines, ", "), PipelineFromBundle),
				})
				continue
			}
			refs = append(refs, pipelineRef{node: ref, pipeline: name})
		}
	}
	if len(refs) == 0 && len(problems) == 0 {
		what := fmt.Sprintf("no TriggerTemplate %s (triggers.tekton.dev)", TriggerTemplate)
		if found {
			what = fmt.Sprintf("no PipelineRun of the TriggerTemplate %s has pipelineRef: {name: %s}", TriggerTemplate, strings.Join(pipelines, " or "))
		}
		problems = append(problems, badinput.FieldError{Message: fmt.Sprintf("-pipeline-from %s: %s to point at the Pipeline's bundle; give ko resolve triggers/, or leave -pipeline-from %s", PipelineFromBundle, what, PipelineFromCluster)})
	}
	return refs, problems
}

// render writes the release: the objects as read, the catalog's in
// cfg.Namespace, the TriggerTemplate's pipelineRef rewritten if planned,
// and the ConfigMap autox-bundles last.
func render(cfg Config, p *planned, pushed []bundle.Pushed) ([]byte, error) {
	for _, d := range p.catalog {
		setAfter(mapping(d.root, "metadata"), "namespace", cfg.Namespace, "name")
	}
	pipelines := map[string]bundle.Pushed{}
	var pipelineRefs, tasks []string
	for _, b := range pushed {
		switch b.Kind {
		case strings.ToLower(bundle.KindPipeline):
			pipelines[b.Name] = b
			if !slices.Contains(pipelineRefs, b.Ref) {
				pipelineRefs = append(pipelineRefs, b.Ref)
			}
		case strings.ToLower(bundle.KindTask):
			tasks = append(tasks, b.Ref)
		}
	}
	for _, name := range p.pipelines {
		if pipelines[name].Ref == "" {
			return nil, fmt.Errorf("the Pipeline %s was not pushed", name)
		}
	}
	sort.Strings(tasks)
	sort.Strings(pipelineRefs)
	for _, old := range p.pipelineRefs {
		rr := pipelines[old.pipeline].ResolverRef()
		if old.byParam() {
			// The Pipelines' one bundle (Publish), the name as the param
			// gives it.
			if len(pipelineRefs) != 1 {
				return nil, fmt.Errorf("the Pipelines were pushed as %d bundles; a pipelineRef by param needs them in one", len(pipelineRefs))
			}
			b := pipelines[p.pipelines[0]]
			b.Name = old.pipeline
			rr = b.ResolverRef()
		}
		var n yaml.Node
		if err := n.Encode(rr); err != nil {
			return nil, err
		}
		n.HeadComment, n.LineComment, n.FootComment = old.node.HeadComment, old.node.LineComment, old.node.FootComment
		*old.node = n
	}
	cm, err := bundlesConfigMap(cfg.SystemNamespace, p.version, pipelineRefs, tasks)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range p.docs {
		if err := enc.Encode(d.node); err != nil {
			return nil, fmt.Errorf("%s: %w", d.who(), err)
		}
	}
	if err := enc.Encode(cm); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bundlesConfigMap is the ConfigMap autox-bundles, as a YAML node.
func bundlesConfigMap(namespace, version string, pipelines, tasks []string) (*yaml.Node, error) {
	type metadata struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	}
	type data struct {
		Pipeline string `yaml:"pipeline"`
		Tasks    string `yaml:"tasks"`
	}
	cm := struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Metadata   metadata `yaml:"metadata"`
		Data       data     `yaml:"data"`
	}{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata: metadata{Name: BundlesConfigMap, Namespace: namespace, Labels: map[string]string{
			contract.NameLabel:    BundlesConfigMap,
			contract.PartOfLabel:  "autox",
			contract.VersionLabel: version,
		}},
		Data: data{Pipeline: strings.Join(pipelines, "\n"), Tasks: strings.Join(tasks, "\n")},
	}
	var n yaml.Node
	if err := n.Encode(cm); err != nil {
		return nil, err
	}
	n.HeadComment = "The bundles this release pushed, pinned by digest (go run ./images/release):\n" +
		"the Pipelines' and the Tasks', one per line, sorted. The admission\n" +
		"policies take it as their param: only these bundles may be used."
	return &n, nil
}

// value is the value node of key in mapping m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapping is value(m, key) if that is a mapping, else nil.
func mapping(m *yaml.Node, key string) *yaml.Node {
	if v := value(m, key); v != nil && v.Kind == yaml.MappingNode {
		return v
	}
	return nil
}

// scalar is the string at path under m, or "".
func scalar(m *yaml.Node, path ...string) string {
	for i, k := range path {
		v := value(m, k)
		if v == nil {
			return ""
		}
		if i == len(path)-1 {
			if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
				return ""
			}
			return v.Value
		}
		m = v
	}
	return ""
}

// remove deletes key from mapping m.
func remove(m *yaml.Node, key string) {
	if m == nil {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// setAfter sets key to a string in mapping m: in place if it is there,
// else right after the key after (or last).
func setAfter(m *yaml.Node, key, v, after string) {
	if old := value(m, key); old != nil {
		old.Kind, old.Tag, old.Value, old.Style, old.Content = yaml.ScalarNode, "!!str", v, 0, nil
		return
	}
	pair := []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: v},
	}
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == after {
			at = i + 2
		}
	}
	m.Content = append(m.Content[:at], append(pair, m.Content[at:]...)...)
}
