// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	tektonv1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/tektontest"
)

// repoRoot is the module's root folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// catalog is our catalog as JSON, read from the repository's files:
// stepactions/*/*.yaml, tasks/*/*.yaml, pipelines/*/*.yaml (each of them
// one object).
func catalog(t *testing.T) []Object {
	t.Helper()
	var objs []Object
	for _, dir := range []string{"stepactions", "tasks", "pipelines"} {
		files, err := filepath.Glob(filepath.Join(repoRoot(t), dir, "*", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			j, err := yaml.YAMLToJSON(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			o, err := NewObject(j)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

var pinnedRef = regexp.MustCompile(`^(.+)/bundles/([a-z0-9-]+)@sha256:[0-9a-f]{64}$`)

// TestPublishPinsEveryReference: our catalog, published, is one bundle per
// StepAction and Task, and one bundle of both Pipelines (bundles/autox),
// pushed in that order. Read back with
// Tekton's own bundle reader, each bundle holds its object unchanged
// except for its references: each Task's step refs name the StepActions'
// bundles by digest through the bundles resolver, and those resolve to
// the StepActions; the Pipeline's taskRefs (tasks and finally) name the
// Tasks' bundles, which resolve to the Tasks. Tekton's validation, with a
// fresh install's feature flags, accepts every object read back.
func TestPublishPinsEveryReference(t *testing.T) {
	ctx := context.Background()
	objs := catalog(t)
	reg := Registry{Repo: newRegistry(t) + "/autox"}
	pushed, err := Publisher{Registry: reg}.Publish(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byKindName := map[string]Pushed{}
	for _, p := range pushed {
		names = append(names, p.Kind+"/"+p.Name)
		byKindName[p.Kind+"/"+p.Name] = p
		repo := p.Name
		if p.Kind == "pipeline" {
			repo = "autox"
		}
		m := pinnedRef.FindStringSubmatch(p.Ref)
		if m == nil || m[1] != reg.Repo || m[2] != repo {
			t.Errorf("%s: ref %q is not %s/bundles/%s@sha256:<digest>", p, p.Ref, reg.Repo, repo)
		}
	}
	want := []string{
		"stepaction/autox-assess", "stepaction/autox-grpc", "stepaction/autox-http", "stepaction/autox-ready",
		"task/autox-experiment", "task/autox-notify", "task/autox-workers-assess", "task/autox-workers-load", "task/autox-workers-ready",
		"pipeline/autox", "pipeline/autox-workers",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("bundles (-want +got):\n%s", diff)
	}
	if a, w := byKindName["pipeline/autox"].Ref, byKindName["pipeline/autox-workers"].Ref; a != w {
		t.Errorf("the Pipelines' bundles differ: %s and %s; want one bundle of both", a, w)
	}

	vctx := tektontest.WebhookContext(t)
	get := func(t *testing.T, p Pushed) any {
		t.Helper()
		obj, _, err := oci.NewResolver(p.Ref, authn.NewMultiKeychain()).Get(ctx, p.Kind, p.Name)
		if err != nil {
			t.Fatalf("Tekton reading %s: %v", p, err)
		}
		return obj
	}
	// resolve checks that a resolver ref pins one of our bundles, and
	// returns the object Tekton reads from it.
	resolve := func(t *testing.T, where string, rr tektonv1.ResolverRef, kind, name string) any {
		t.Helper()
		p, ok := byKindName[kind+"/"+name]
		if !ok {
			t.Fatalf("%s: no bundle %s/%s was pushed", where, kind, name)
		}
		wantRef := tektonv1.ResolverRef{Resolver: "bundles", Params: tektonv1.Params{
			{Name: "bundle", Value: *tektonv1.NewStructuredValues(p.Ref)},
			{Name: "name", Value: *tektonv1.NewStructuredValues(name)},
			{Name: "kind", Value: *tektonv1.NewStructuredValues(kind)},
		}}
		if diff := cmp.Diff(wantRef, rr); diff != "" {
			t.Errorf("%s (-want +got):\n%s", where, diff)
		}
		return get(t, p)
	}
	source := map[string]Object{}
	for _, o := range objs {
		source[o.ContractKind()+"/"+o.Name] = o
	}
	for _, p := range pushed {
		t.Run(p.Kind+"/"+p.Name, func(t *testing.T) {
			obj := get(t, p)
			// The content, but for the refs Publish pins, is the source's.
			wantTree := tree(t, source[p.Kind+"/"+p.Name].JSON)
			switch o := obj.(type) {
			case *v1beta1.StepAction:
				if err := o.Validate(vctx); err != nil {
					t.Errorf("Tekton's validation: %v", err)
				}
			case *tektonv1.Task:
				if len(o.Spec.Steps) == 0 {
					t.Fatal("no steps")
				}
				for i, s := range o.Spec.Steps {
					if s.Ref == nil {
						continue
					}
					name := tree(t, source[p.Kind+"/"+p.Name].JSON)["spec"].(map[string]any)["steps"].([]any)[i].(map[string]any)["ref"].(map[string]any)["name"].(string)
					sa, ok := resolve(t, "spec.steps["+s.Name+"].ref", s.Ref.ResolverRef, "stepaction", name).(*v1beta1.StepAction)
					if !ok || sa.Name != name {
						t.Errorf("step %s: its bundle holds %#v, not StepAction %s", s.Name, sa, name)
					}
					pin(wantTree["spec"].(map[string]any)["steps"].([]any)[i], byKindName["stepaction/"+name])
				}
				if err := o.Validate(vctx); err != nil {
					t.Errorf("Tekton's validation: %v", err)
				}
			case *tektonv1.Pipeline:
				for field, tasks := range map[string][]tektonv1.PipelineTask{"tasks": o.Spec.Tasks, "finally": o.Spec.Finally} {
					if len(tasks) == 0 {
						t.Fatalf("no %s", field)
					}
					for i, pt := range tasks {
						name := wantTree["spec"].(map[string]any)[field].([]any)[i].(map[string]any)["taskRef"].(map[string]any)["name"].(string)
						task, ok := resolve(t, "spec."+field+"["+pt.Name+"].taskRef", pt.TaskRef.ResolverRef, "task", name).(*tektonv1.Task)
						if !ok || task.Name != name {
							t.Errorf("%s %s: its bundle holds %#v, not Task %s", field, pt.Name, task, name)
						}
						if pt.TaskRef.Kind != tektonv1.NamespacedTaskKind {
							t.Errorf("%s %s: taskRef.kind %q, want it kept as Task", field, pt.Name, pt.TaskRef.Kind)
						}
						pinTaskRef(wantTree["spec"].(map[string]any)[field].([]any)[i], byKindName["task/"+name])
					}
				}
				if err := o.Validate(vctx); err != nil {
					t.Errorf("Tekton's validation: %v", err)
				}
			default:
				t.Fatalf("Tekton read a %T", obj)
			}
			if diff := cmp.Diff(wantTree, bundleTree(t, p)); diff != "" {
				t.Errorf("bundle content (-want +got):\n%s", diff)
			}
		})
	}
}

// tree decodes JSON as Publish does.
func tree(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// bundleTree is the JSON of p's layer in its bundle: the bundle's one
// layer, or, in the Pipelines' bundle, the layer annotated with p's kind
// and name.
func bundleTree(t *testing.T, p Pushed) map[string]any {
	t.Helper()
	img, err := remote.Image(mustRef(t, p.Ref))
	if err != nil {
		t.Fatal(err)
	}
	_, layers := view(t, img)
	if p.Kind != "pipeline" && len(layers) != 1 {
		t.Fatalf("%s: %d layers, want 1", p, len(layers))
	}
	for _, l := range layers {
		if l.Annotations[AnnotationKind] == p.Kind && l.Annotations[AnnotationName] == p.Name {
			return tree(t, []byte(l.Content))
		}
	}
	t.Fatalf("%s: no layer of its bundle is annotated %s/%s", p, p.Kind, p.Name)
	return nil
}

// pin writes, by hand, what a pinned step ref is.
func pin(step any, p Pushed) {
	step.(map[string]any)["ref"] = map[string]any{"resolver": "bundles", "params": []any{
		map[string]any{"name": "bundle", "value": p.Ref},
		map[string]any{"name": "name", "value": p.Name},
		map[string]any{"name": "kind", "value": "stepaction"},
	}}
}

// pinTaskRef writes, by hand, what a pinned taskRef is: kind: Task stays.
func pinTaskRef(task any, p Pushed) {
	task.(map[string]any)["taskRef"] = map[string]any{"kind": "Task", "resolver": "bundles", "params": []any{
		map[string]any{"name": "bundle", "value": p.Ref},
		map[string]any{"name": "name", "value": p.Name},
		map[string]any{"name": "kind", "value": "task"},
	}}
}

// TestPublishIsReproducible: the same catalog published twice gives the
// same digests; PullRepo names the registry in every ref (and so in the
// Tasks' and the Pipeline's content) without changing where they go.
func TestPublishIsReproducible(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	digests := func(reg Registry) []string {
		pushed, err := Publisher{Registry: reg}.Publish(ctx, catalog(t))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range pushed {
			out = append(out, p.String())
		}
		return out
	}
	reg := Registry{Repo: host + "/autox"}
	first := digests(reg)
	if diff := cmp.Diff(first, digests(reg)); diff != "" {
		t.Errorf("a second publish differs (-first +second):\n%s", diff)
	}
	pull := digests(Registry{Repo: host + "/autox", PullRepo: "10.88.0.1:10290/autox"})
	for i, line := range pull {
		if !strings.Contains(line, "=10.88.0.1:10290/autox/bundles/") {
			t.Errorf("%s does not name the pull repository", line)
		}
		// Only what names other bundles changes with the repository.
		names := strings.HasPrefix(line, "task/") && !strings.HasPrefix(line, "task/autox-notify=") || strings.HasPrefix(line, "pipeline/")
		if changed := digestOf(line) != digestOf(first[i]); changed != names {
			t.Errorf("%s vs %s: digest changed %v, want %v (only the Tasks with StepActions and the Pipelines name other bundles)", line, first[i], changed, names)
		}
		// Pushed to Repo, found there by the digest that names PullRepo.
		repo := line[strings.Index(line, "/bundles/")+len("/bundles/") : strings.LastIndex(line, "@")]
		if _, err := remote.Image(mustRef(t, host+"/autox/bundles/"+repo+"@"+digestOf(line))); err != nil {
			t.Errorf("%s: not in the registry pushed to: %v", line, err)
		}
	}
}

func digestOf(line string) string { return line[strings.LastIndex(line, "@")+1:] }

// TestPublishRefuses: a catalog that cannot be published is refused with
// every problem, each naming the object, the field, the value and the
// fix, and nothing is pushed.
func TestPublishRefuses(t *testing.T) {
	set := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			panic("fixture: " + old + " is not in " + s)
		}
		return strings.Replace(s, old, new, 1)
	}
	taskWithRef := set(taskJSON, `"image":"example.com/hello@sha256:0000000000000000000000000000000000000000000000000000000000000000","name":"hello"`, `"name":"hello","ref":{"name":"say"}`)
	for _, tc := range []struct {
		name string
		objs []string
		want string
	}{
		{"nothing", nil, "no StepAction, Task or Pipeline to bundle; give the catalog's YAML (tasks/, stepactions/, pipelines/)"},
		{"versions that differ", []string{stepActionJSON, set(taskWithRef, `"0.1"`, `"0.2"`), set(pipelineJSON, `"0.1"`, `"0.3"`)},
			`Task hello: metadata.labels[app.kubernetes.io/version]: "0.2" differs from "0.1" of StepAction say; every catalog object carries the same version, the bundles' tag` + "\n" +
				`Pipeline greet: metadata.labels[app.kubernetes.io/version]: "0.3" differs from "0.1" of StepAction say; every catalog object carries the same version, the bundles' tag`},
		{"no version", []string{set(taskJSON, `"labels":{"app.kubernetes.io/version":"0.1"},`, "")},
			`Task hello: metadata.labels[app.kubernetes.io/version]: missing; every catalog object carries the release's version (its bundles' tag is v<version>), e.g. app.kubernetes.io/version: "0.1"`},
		{"a version that makes no tag", []string{set(taskJSON, `"0.1"`, `"0.1+build"`)},
			`Task hello: metadata.labels[app.kubernetes.io/version]: "0.1+build" makes the bundles' tag "v0.1+build", which is not an image tag (a tag is at most 128 letters, digits, '_', '.' and '-', beginning with a letter, digit or '_'); write a version such as 0.1 or 1.2.3-rc.1`},
		{"a step ref to no StepAction of the release", []string{taskWithRef},
			`Task hello: spec.steps[0].ref.name: "say" names no StepAction of the release; add the StepAction's YAML to it, or refer to it through a resolver`},
		{"a taskRef to no Task of the release", []string{stepActionJSON, pipelineJSON},
			`Pipeline greet: spec.tasks[0].taskRef.name: "hello" names no Task of the release; add the Task's YAML to it, or refer to it through a resolver`},
		{"another kind", []string{taskJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"app.kubernetes.io/version":"0.1"}}}`},
			`ConfigMap c: apiVersion "v1", kind "ConfigMap": only tekton.dev StepActions, Tasks and Pipelines are bundled; leave it out of the catalog`},
		{"a Task twice", []string{taskJSON, taskJSON},
			"Task hello: given twice; each catalog object has one file, and one bundle"},
		{"a Pipeline named as a Task", []string{taskJSON, set(pipelineJSON, `"name":"greet"`, `"name":"hello"`)},
			"Pipeline hello: its bundle would go to bundles/hello, as the Task hello's does; give one of them another name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int64
			host := newRegistry(t)
			counting := countingTransport{n: &requests}
			var objs []Object
			for _, s := range tc.objs {
				objs = append(objs, mustObject(t, s))
			}
			_, err := Publisher{Registry: Registry{Repo: host + "/autox", Options: []remote.Option{remote.WithTransport(counting)}}}.Publish(context.Background(), objs)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests to the registry, want none", n)
			}
		})
	}
}

type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestPublishUnreachableRegistry: a registry that does not answer is one
// line naming the bundle, where it went, the cause and the fix.
func TestPublishUnreachableRegistry(t *testing.T) {
	closed := newClosedPort(t)
	_, err := Publisher{Registry: Registry{Repo: closed + "/autox"}}.Publish(context.Background(), []Object{mustObject(t, stepActionJSON)})
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	wantPrefix := "bundle stepaction/say: pushing " + closed + "/autox/bundles/say:v0.1: "
	wantSuffix := "; check that the registry answers and takes pushes (make cluster-up for the test cluster's, or set the repository to one you can push to)"
	if !strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, wantSuffix) || !strings.Contains(got, "connection refused") || strings.Contains(got, "\n") {
		t.Errorf("error %q, want one line %q<cause: connection refused>%q", got, wantPrefix, wantSuffix)
	}
}

// newClosedPort is a loopback address that nothing listens on.
func newClosedPort(t *testing.T) string {
	t.Helper()
	s := newRegistryServer(t)
	host := strings.TrimPrefix(s.URL, "http://")
	s.Close()
	return host
}

// TestCheckFindsEveryRef: the references Publish pins, found in every
// place a catalog object may hold one, and none it must leave alone.
func TestCheckFindsEveryRef(t *testing.T) {
	pipeline := `{"apiVersion":"tekton.dev/v1","kind":"Pipeline","metadata":{"name":"p"},"spec":{
		"tasks":[
			{"name":"a","taskRef":{"name":"t1"}},
			{"name":"b","taskRef":{"kind":"Task","name":"t2"}},
			{"name":"c","taskRef":{"resolver":"git","params":[{"name":"name","value":"x"}]}},
			{"name":"d","taskRef":{"apiVersion":"example.dev/v1","kind":"Wait","name":"w"}},
			{"name":"e","taskSpec":{"steps":[{"name":"s","ref":{"name":"sa1"}},{"name":"i","image":"busybox"}]}}],
		"finally":[{"name":"f","taskRef":{"name":"t3"}}]}}`
	task := `{"apiVersion":"tekton.dev/v1","kind":"Task","metadata":{"name":"t"},"spec":{"steps":[
		{"name":"a","ref":{"name":"sa2"}},
		{"name":"b","ref":{"resolver":"hub","params":[]}},
		{"name":"c","image":"busybox"}]}}`
	var got []string
	for _, s := range []string{pipeline, task} {
		o := mustObject(t, s)
		for _, r := range references(o.Kind, tree(t, o.JSON)) {
			got = append(got, o.Name+" "+r.path+" -> "+r.kind+" "+r.name)
		}
	}
	sort.Strings(got)
	want := []string{
		"p spec.finally[0].taskRef -> Task t3",
		"p spec.tasks[0].taskRef -> Task t1",
		"p spec.tasks[1].taskRef -> Task t2",
		"p spec.tasks[4].taskSpec.steps[0].ref -> StepAction sa1",
		"t spec.steps[0].ref -> StepAction sa2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
