// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/contract"
)

// The kinds of a catalog, and the order they are pushed in: a Task's
// bundle names its StepActions' bundles by digest, a Pipeline's its
// Tasks'.
const (
	KindStepAction = "StepAction"
	KindTask       = "Task"
	KindPipeline   = "Pipeline"
)

var pushOrder = []string{KindStepAction, KindTask, KindPipeline}

// Resolver is the name of Tekton's bundles resolver, as a ref writes it.
const Resolver = "bundles"

// tagRule is the OCI distribution spec's rule for tags.
var tagRule = "a tag is at most 128 letters, digits, '_', '.' and '-', beginning with a letter, digit or '_'"

var validTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Pushed is one bundle pushed.
type Pushed struct {
	// Kind is the resource's kind as the contract writes it (stepaction,
	// task, pipeline); Name its name.
	Kind string
	Name string
	// Ref is the bundle pinned by digest: <repo>/bundles/<name>@sha256:...
	Ref string
}

// String is the line of bundles.txt: kind/name=ref, e.g.
// task/autox-experiment=127.0.0.1:10290/autox/bundles/autox-experiment@sha256:...
func (p Pushed) String() string { return p.Kind + "/" + p.Name + "=" + p.Ref }

// Param is one param of a resolver ref.
type Param struct {
	Name  string `json:"name" yaml:"name"`
	Value string `json:"value" yaml:"value"`
}

// ResolverRef is a reference through a resolver, as a step's ref, a
// taskRef and a pipelineRef write it.
type ResolverRef struct {
	Resolver string  `json:"resolver" yaml:"resolver"`
	Params   []Param `json:"params" yaml:"params"`
}

// ResolverRef is the reference to p's resource through the bundles
// resolver: the pinned bundle, the resource's name and kind.
func (p Pushed) ResolverRef() ResolverRef {
	return ResolverRef{Resolver: Resolver, Params: []Param{
		{Name: "bundle", Value: p.Ref},
		{Name: "name", Value: p.Name},
		{Name: "kind", Value: p.Kind},
	}}
}

// Publisher pushes a catalog as bundles.
type Publisher struct {
	// Registry is where the bundles go.
	Registry Registry
	// Log gets a line per bundle pushed; nil logs nothing.
	Log *slog.Logger
}

// Publish pushes objs (StepActions, Tasks and Pipelines, as the catalog
// holds them: no namespace, images pinned) as bundles tagged v<version>
// (their app.kubernetes.io/version label, which they must share): first
// each StepAction as a bundle of its own, then each Task, its steps'
// `ref: {name: X}` rewritten to the bundles resolver with StepAction X's
// pinned bundle, then the Pipelines, each taskRef (tasks and finally)
// rewritten to its Task's, all of them in one bundle:
// one pinned reference then serves every Pipeline, so that the trigger's
// TriggerTemplate can pick the Pipeline by name for each run. It returns
// one Pushed per object in that order, each kind sorted by name (the
// Pipelines share their Ref). Nothing is pushed unless Check passes.
func (p Publisher) Publish(ctx context.Context, objs []Object) ([]Pushed, error) {
	if err := p.Registry.Check(); err != nil {
		return nil, err
	}
	docs, err := plan(objs)
	if err != nil {
		return nil, err
	}
	version, _ := Version(objs) // checked by plan
	tag := "v" + version
	log := p.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pinned := map[string]Pushed{} // by kind/name, as refs name them
	var out []Pushed
	// push pushes group as one bundle to bundles/<repo>.
	push := func(repo string, group []*doc) error {
		var bundled []Object
		var what []string
		for _, d := range group {
			what = append(what, d.obj.String())
			for _, r := range d.refs {
				r.pin(pinned[r.kind+"/"+r.name]) // pushed before: pushOrder
			}
			data, err := encodeJSON(d.tree)
			if err != nil {
				return fmt.Errorf("%s: %w", d.obj, err)
			}
			o := d.obj
			o.JSON = data
			bundled = append(bundled, o)
		}
		img, err := Image(bundled...)
		if err != nil {
			return err
		}
		ref, err := p.Registry.Push(ctx, repo, tag, img)
		if err != nil {
			return fmt.Errorf("bundle %s: %w; check that the registry answers and takes pushes (make cluster-up for the test cluster's, or set the repository to one you can push to)", strings.Join(what, ", "), err)
		}
		for _, o := range bundled {
			pushed := Pushed{Kind: o.ContractKind(), Name: o.Name, Ref: ref}
			pinned[o.Kind+"/"+o.Name] = pushed
			out = append(out, pushed)
			log.Info("pushed bundle", "bundle", pushed.Kind+"/"+pushed.Name, "ref", ref, "tag", tag)
		}
		return nil
	}
	for _, kind := range pushOrder {
		var group []*doc
		for _, d := range docs {
			if d.obj.Kind == kind {
				group = append(group, d)
			}
		}
		if len(group) == 0 {
			continue
		}
		if kind == KindPipeline {
			// To bundles/<the first by name>: bundles/autox for autox and
			// autox-workers.
			if err := push(group[0].obj.Name, group); err != nil {
				return nil, err
			}
			continue
		}
		for _, d := range group {
			if err := push(d.obj.Name, []*doc{d}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Check says whether objs make a catalog Publish can push: StepActions,
// Tasks and Pipelines only, each name once per kind, one version, and
// every step ref and taskRef by name naming one of them. It returns
// every problem, as a *badinput.Error.
func Check(objs []Object) error {
	_, err := plan(objs)
	return err
}

// doc is one catalog object to push: its tree (as JSON decodes it) and
// the references in it that Publish pins.
type doc struct {
	obj  Object
	tree map[string]any
	refs []reference
}

// reference is a ref by name in a doc, which Publish rewrites in place.
type reference struct {
	// path is the field, e.g. spec.steps[0].ref.
	path string
	ref  map[string]any
	// kind and name are what it refers to: StepAction or Task, by name.
	kind, name string
}

// pin rewrites the ref to the bundles resolver with p's bundle; the
// ref's other fields (a taskRef's kind: Task) stay.
func (r reference) pin(p Pushed) {
	delete(r.ref, "name")
	rr := p.ResolverRef()
	params := make([]any, len(rr.Params))
	for i, pr := range rr.Params {
		params[i] = map[string]any{"name": pr.Name, "value": pr.Value}
	}
	r.ref["resolver"] = rr.Resolver
	r.ref["params"] = params
}

// plan reads objs and finds the references to pin; it returns them
// sorted by name, or every problem at once.
func plan(objs []Object) ([]*doc, error) {
	var problems []badinput.FieldError
	add := func(path, format string, args ...any) {
		problems = append(problems, badinput.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if len(objs) == 0 {
		add("", "no StepAction, Task or Pipeline to bundle; give the catalog's YAML (tasks/, stepactions/, pipelines/)")
	}
	if _, err := Version(objs); err != nil {
		problems = append(problems, err.(*badinput.Error).Problems...)
	}
	have := map[string]bool{}    // kind/name
	repos := map[string]string{} // name -> who has it
	var docs []*doc
	for _, o := range objs {
		who := o.Kind + " " + o.Name
		if err := o.check(); err != nil {
			add(who, "%v", err)
			continue
		}
		if !isCatalogKind(o) {
			add(who, "apiVersion %q, kind %q: only tekton.dev StepActions, Tasks and Pipelines are bundled; leave it out of the catalog", o.APIVersion, o.Kind)
			continue
		}
		if have[o.Kind+"/"+o.Name] {
			add(who, "given twice; each catalog object has one file, and one bundle")
			continue
		}
		// Bundles go to <repo>/bundles/<name>, whatever their kind.
		if other, ok := repos[o.Name]; ok {
			add(who, "its bundle would go to bundles/%s, as the %s's does; give one of them another name", o.Name, other)
			continue
		}
		have[o.Kind+"/"+o.Name] = true
		repos[o.Name] = o.Kind + " " + o.Name
		d := &doc{obj: o}
		dec := json.NewDecoder(bytes.NewReader(o.JSON))
		dec.UseNumber() // numbers stay as written
		if err := dec.Decode(&d.tree); err != nil {
			add(who, "not a JSON object: %v", err)
			continue
		}
		d.refs = references(o.Kind, d.tree)
		docs = append(docs, d)
	}
	for _, d := range docs {
		for _, r := range d.refs {
			if !have[r.kind+"/"+r.name] {
				add(d.obj.Kind+" "+d.obj.Name+": "+r.path+".name", "%q names no %s of the release; add the %s's YAML to it, or refer to it through a resolver", r.name, r.kind, r.kind)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &badinput.Error{Problems: problems}
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].obj.Name < docs[j].obj.Name })
	return docs, nil
}

func isCatalogKind(o Object) bool {
	group, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok || group != "tekton.dev" {
		return false
	}
	for _, k := range pushOrder {
		if o.Kind == k {
			return true
		}
	}
	return false
}

// references finds the refs by name in a catalog object's tree: each
// step's ref in a Task (to a StepAction), each taskRef of a Pipeline's
// tasks and finally (to a Task), and the step refs of their embedded
// taskSpecs. A ref that already names a resolver is left as it is, and so
// is a taskRef to another kind (a custom task).
func references(kind string, tree map[string]any) []reference {
	spec, _ := tree["spec"].(map[string]any)
	var refs []reference
	steps := func(path string, spec map[string]any) {
		list, _ := spec["steps"].([]any)
		for i, s := range list {
			step, _ := s.(map[string]any)
			if r, ok := byName(step["ref"], nil); ok {
				refs = append(refs, reference{path: fmt.Sprintf("%ssteps[%d].ref", path, i), ref: step["ref"].(map[string]any), kind: KindStepAction, name: r})
			}
		}
	}
	switch kind {
	case KindTask:
		steps("spec.", spec)
	case KindPipeline:
		for _, field := range []string{"tasks", "finally"} {
			list, _ := spec[field].([]any)
			for i, t := range list {
				task, _ := t.(map[string]any)
				path := fmt.Sprintf("spec.%s[%d].", field, i)
				if r, ok := byName(task["taskRef"], []string{"", KindTask}); ok {
					refs = append(refs, reference{path: path + "taskRef", ref: task["taskRef"].(map[string]any), kind: KindTask, name: r})
				}
				if ts, ok := task["taskSpec"].(map[string]any); ok {
					steps(path+"taskSpec.", ts)
				}
			}
		}
	}
	return refs
}

// byName returns the name a ref refers to, when it refers by name alone
// (no resolver, no custom apiVersion, a kind among kinds if kinds is set).
func byName(v any, kinds []string) (string, bool) {
	ref, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	name, _ := ref["name"].(string)
	if name == "" || ref["resolver"] != nil || ref["params"] != nil || ref["apiVersion"] != nil {
		return "", false
	}
	if kinds != nil {
		k, _ := ref["kind"].(string)
		found := false
		for _, want := range kinds {
			found = found || k == want
		}
		if !found {
			return "", false
		}
	}
	return name, true
}

// Version is the app.kubernetes.io/version label that every one of objs
// carries; a missing label, versions that differ, or one that cannot make
// a tag (v<version>) is a *badinput.Error naming each object.
func Version(objs []Object) (string, error) {
	var problems []badinput.FieldError
	field := "metadata.labels[" + contract.VersionLabel + "]"
	version, first := "", ""
	for _, o := range objs {
		var meta struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(o.JSON, &meta) // a bad object is plan's to report
		v, ok := meta.Metadata.Labels[contract.VersionLabel]
		who := o.Kind + " " + o.Name + ": " + field
		switch {
		case !ok || v == "":
			problems = append(problems, badinput.FieldError{Path: who, Message: "missing; every catalog object carries the release's version (its bundles' tag is v<version>), e.g. " + contract.VersionLabel + `: "0.1"`})
		case first == "":
			version, first = v, o.Kind+" "+o.Name
			if !validTag.MatchString("v" + v) {
				problems = append(problems, badinput.FieldError{Path: who, Message: fmt.Sprintf("%q makes the bundles' tag %q, which is not an image tag (%s); write a version such as 0.1 or 1.2.3-rc.1", v, "v"+v, tagRule)})
			}
		case v != version:
			problems = append(problems, badinput.FieldError{Path: who, Message: fmt.Sprintf("%q differs from %q of %s; every catalog object carries the same version, the bundles' tag", v, version, first)})
		}
	}
	if len(problems) > 0 {
		return "", &badinput.Error{Problems: problems}
	}
	return version, nil
}

// encodeJSON writes v with sorted keys and no HTML escaping (a
// description's <url> stays readable), without a trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
