// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	tektonv1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
	triggersv1beta1 "github.com/tektoncd/triggers/pkg/apis/triggers/v1beta1"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/bundle"
	"github.com/autox-tekton/autox/internal/tektontest"
)

// repoRoot is the module's root folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var koImage = regexp.MustCompile(`ko://github\.com/autox-tekton/autox/cmd/([a-z]+)`)

// resolved is what `ko resolve` makes of our YAML, in make release's
// order (the namespaces first), each ko:// image pinned by a made-up
// digest in the test cluster's registry: the real files of the catalog
// (stepactions/, tasks/, pipelines/) and the install (triggers/).
func resolved(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	files := []string{filepath.Join(root, "triggers", "namespace.yaml")}
	for _, pattern := range []string{"stepactions/*/*.yaml", "tasks/*/*.yaml", "pipelines/*/*.yaml", "triggers/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if filepath.Base(f) != "namespace.yaml" {
				files = append(files, f)
			}
		}
	}
	var parts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, koImage.ReplaceAllStringFunc(string(b), func(s string) string {
			sum := sha256.Sum256([]byte(s))
			return "127.0.0.1:10290/autox/" + koImage.FindStringSubmatch(s)[1] + "@sha256:" + hex.EncodeToString(sum[:])
		}))
	}
	return strings.Join(parts, "\n---\n")
}

// objects decodes every document of a YAML stream as Kubernetes reads it.
func objects(t *testing.T, text string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(text))
	var out []map[string]any
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if len(n.Content) == 0 || n.Content[0].ShortTag() == "!!null" {
			continue
		}
		y, err := yaml.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := sigsyaml.Unmarshal(y, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
}

func isCatalog(m map[string]any) bool {
	switch m["kind"] {
	case "StepAction", "Task", "Pipeline":
		return strings.HasPrefix(m["apiVersion"].(string), "tekton.dev/")
	}
	return false
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func newRegistry(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// release runs a release of input in a temporary folder and returns the
// release file, bundles.txt and stdout.
func release(t *testing.T, cfg Config, input string) (out, list, stdout string) {
	t.Helper()
	dir := t.TempDir()
	cfg.In = filepath.Join(dir, "resolved.yaml")
	if cfg.Out == "" {
		cfg.Out = filepath.Join(dir, "bin", "release.yaml")
	}
	if err := os.WriteFile(cfg.In, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Run(context.Background(), cfg, &buf); err != nil {
		t.Fatal(err)
	}
	o, err := os.ReadFile(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	l, err := os.ReadFile(filepath.Join(filepath.Dir(cfg.Out), BundlesFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(o), string(l), buf.String()
}

func config(repo string) Config {
	return Config{Namespace: DefaultNamespace, SystemNamespace: DefaultSystemNamespace, Registry: bundle.Registry{Repo: repo}}
}

var bundleLine = regexp.MustCompile(`^(stepaction|task|pipeline)/([a-z0-9-]+)=(.+/bundles/([a-z0-9-]+)@sha256:[0-9a-f]{64})$`)

// parseList reads bundles.txt into kind/name -> ref.
func parseList(t *testing.T, list string) ([]string, map[string]string) {
	t.Helper()
	var names []string
	refs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
		// The Pipelines share one bundle, bundles/<the first by name>;
		// every other object has its own.
		m := bundleLine.FindStringSubmatch(line)
		if m == nil || (m[1] != "pipeline" && m[2] != m[4]) {
			t.Fatalf("bundles.txt line %q is not kind/name=<repo>/bundles/<name>@sha256:<digest>", line)
		}
		for name, ref := range refs {
			if m[1] == "pipeline" && strings.HasPrefix(name, "pipeline/") && ref != m[3] {
				t.Fatalf("bundles.txt: %s is in %s, %s in %s; the Pipelines share one bundle", name, ref, m[1]+"/"+m[2], m[3])
			}
		}
		names = append(names, m[1]+"/"+m[2])
		refs[m[1]+"/"+m[2]] = m[3]
	}
	return names, refs
}

// TestRunReleasesOurCatalog: our real catalog and install objects, released:
// bundles.txt (and stdout) list one bundle per StepAction, Task and the
// Pipeline; the release file is the input, object for object, with the
// catalog objects in the namespace autox and the ConfigMap autox-bundles
// added last; and each bundle, read back with Tekton's own reader, is the
// catalog object without a namespace and with its images pinned.
func TestRunReleasesOurCatalog(t *testing.T) {
	host := newRegistry(t)
	input := resolved(t)
	out, list, stdout := release(t, config(host+"/autox"), input)
	if stdout != list {
		t.Errorf("stdout %q differs from bundles.txt %q", stdout, list)
	}
	names, refs := parseList(t, list)
	wantNames := []string{
		"stepaction/autox-assess", "stepaction/autox-grpc", "stepaction/autox-http", "stepaction/autox-ready",
		"task/autox-experiment", "task/autox-notify", "task/autox-workers-assess", "task/autox-workers-load", "task/autox-workers-ready",
		"pipeline/autox", "pipeline/autox-workers",
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Fatalf("bundles.txt (-want +got):\n%s", diff)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, host+"/autox/bundles/") {
			t.Errorf("ref %s is not in %s/autox/bundles/", ref, host)
		}
	}

	want := objects(t, input)
	for _, m := range want {
		if isCatalog(m) {
			m["metadata"].(map[string]any)["namespace"] = "autox"
		}
	}
	want = append(want, map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      "autox-bundles",
			"namespace": "autox-system",
			"labels": map[string]any{
				"app.kubernetes.io/name":    "autox-bundles",
				"app.kubernetes.io/part-of": "autox",
				"app.kubernetes.io/version": "0.1",
			},
		},
		"data": map[string]any{
			"pipeline": strings.Join(sortedRefs(refs, "pipeline/"), "\n"),
			"tasks":    strings.Join(sortedRefs(refs, "task/"), "\n"),
		},
	})
	if diff := cmp.Diff(want, objects(t, out)); diff != "" {
		t.Errorf("release file (-want +got):\n%s", diff)
	}
	// As people read it.
	if wantTail := configMapText(refs); !strings.HasSuffix(out, "---\n"+wantTail) {
		t.Errorf("the release file does not end with the ConfigMap\n%s\nbut with\n%s", wantTail, out[max(0, len(out)-len(wantTail)-200):])
	}

	// Each bundle, as Tekton reads it: no namespace, no ko:// image.
	for _, name := range names {
		kind, n, _ := strings.Cut(name, "/")
		obj, _, err := oci.NewResolver(refs[name], authn.NewMultiKeychain()).Get(context.Background(), kind, n)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		u, err := runtimeToMap(obj)
		if err != nil {
			t.Fatal(err)
		}
		if ns := field(u, "metadata", "namespace"); ns != nil {
			t.Errorf("%s: the bundle's object has the namespace %v; a catalog object has none", name, ns)
		}
		j, _ := sigsyaml.Marshal(u)
		if strings.Contains(string(j), "ko://") {
			t.Errorf("%s: the bundle's object names a ko:// image", name)
		}
	}
}

// configMapText is the ConfigMap autox-bundles as the release file has it.
func configMapText(refs map[string]string) string {
	return fmt.Sprintf(`# The bundles this release pushed, pinned by digest (go run ./images/release):
# the Pipelines' and the Tasks', one per line, sorted. The admission
# policies take it as their param: only these bundles may be used.
apiVersion: v1
kind: ConfigMap
metadata:
  name: autox-bundles
  namespace: autox-system
  labels:
    app.kubernetes.io/name: autox-bundles
    app.kubernetes.io/part-of: autox
    app.kubernetes.io/version: "0.1"
data:
  pipeline: %s
  tasks: |-
    %s
`, strings.Join(sortedRefs(refs, "pipeline/"), "\n    "), strings.Join(sortedRefs(refs, "task/"), "\n    "))
}

// sortedRefs are the refs of the bundles whose kind/name has prefix,
// sorted, each once.
func sortedRefs(refs map[string]string, prefix string) []string {
	var out []string
	for name, ref := range refs {
		if strings.HasPrefix(name, prefix) && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	sort.Strings(out)
	return out
}

// koResolved is resolved(t) as ko resolve writes it: each document
// decoded and encoded again by yaml.v3 with an indent of 2 (ko's
// pkg/commands/resolver.go).
func koResolved(t *testing.T) string {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(resolved(t)))
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(&n); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	docSeparator = regexp.MustCompile(`(?m)^---\n`)
	catalogHead  = regexp.MustCompile(`(?m)^apiVersion: tekton\.dev/\S+\nkind: (StepAction|Task|Pipeline)\nmetadata:\n  name: \S+\n`)
	templateHead = regexp.MustCompile(`(?m)^apiVersion: triggers\.tekton\.dev/v1beta1\nkind: TriggerTemplate\nmetadata:\n  name: autox\n`)
)

// TestRunChangesOnlyWhatItMust: on what ko resolve writes, the release
// file is the same text, byte for byte, but for a namespace line in each
// catalog object, the TriggerTemplate's pipelineRef (with -pipeline-from
// bundle) and the ConfigMap at the end: comments, key order, folded
// descriptions and every $(tt.params.x) stay as they were.
func TestRunChangesOnlyWhatItMust(t *testing.T) {
	input := koResolved(t)
	cfg := config(newRegistry(t) + "/autox")
	cfg.PipelineFrom = PipelineFromBundle
	out, list, _ := release(t, cfg, input)
	_, refs := parseList(t, list)
	docs := docSeparator.Split(input, -1)
	var namespaced, rewritten int
	for i, d := range docs {
		if at := catalogHead.FindStringIndex(d); at != nil {
			docs[i] = d[:at[1]] + "  namespace: autox\n" + d[at[1]:]
			namespaced++
		}
		if templateHead.MatchString(d) {
			const old = "        pipelineRef:\n          name: $(tt.params.pipeline)\n"
			if strings.Count(d, old) != 1 {
				t.Fatalf("the TriggerTemplate autox has not one %q", old)
			}
			docs[i] = strings.Replace(d, old, `        pipelineRef:
          resolver: bundles
          params:
            - name: bundle
              value: `+refs["pipeline/autox"]+`
            - name: name
              value: $(tt.params.pipeline)
            - name: kind
              value: pipeline
`, 1)
			rewritten++
		}
	}
	if namespaced != 11 || rewritten != 1 {
		t.Fatalf("found %d catalog objects and %d TriggerTemplates autox in the input, want 11 and 1", namespaced, rewritten)
	}
	want := strings.Join(docs, "---\n") + "---\n" + configMapText(refs)
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("release file (-want +got):\n%s", diff)
	}
}

func runtimeToMap(obj any) (map[string]any, error) {
	j, err := sigsyaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, sigsyaml.Unmarshal(j, &m)
}

// TestRunPipelineFromBundle: with -pipeline-from bundle, the
// TriggerTemplate autox's PipelineRun takes the Pipeline the interceptor
// names ($(tt.params.pipeline)) from the Pipelines' one pinned bundle,
// and nothing else of the release changes. Through Triggers' own
// resolution (as the EventListener makes the run), for autox and for
// autox-workers, the PipelineRun names the bundles resolver with that
// bundle and the Pipeline, keeps every $(tt.params.x) filled in, and
// passes Tekton's validation; the bundle holds that Pipeline, as Tekton
// reads it.
func TestRunPipelineFromBundle(t *testing.T) {
	host := newRegistry(t)
	input := resolved(t)
	cluster, _, _ := release(t, config(host+"/autox"), input)
	cfg := config(host + "/autox")
	cfg.PipelineFrom = PipelineFromBundle
	out, list, _ := release(t, cfg, input)
	_, refs := parseList(t, list)

	want := objects(t, cluster)
	var tt map[string]any
	for _, m := range want {
		if m["kind"] == "TriggerTemplate" && field(m, "metadata", "name") == "autox" {
			tt = m
		}
	}
	if tt == nil {
		t.Fatal("no TriggerTemplate autox in the release")
	}
	pr := field(tt, "spec", "resourcetemplates").([]any)[0].(map[string]any)
	if diff := cmp.Diff(map[string]any{"name": "$(tt.params.pipeline)"}, field(pr, "spec", "pipelineRef")); diff != "" {
		t.Fatalf("the input's pipelineRef (-want +got):\n%s", diff)
	}
	pr["spec"].(map[string]any)["pipelineRef"] = map[string]any{"resolver": "bundles", "params": []any{
		map[string]any{"name": "bundle", "value": refs["pipeline/autox"]},
		map[string]any{"name": "name", "value": "$(tt.params.pipeline)"},
		map[string]any{"name": "kind", "value": "pipeline"},
	}}
	if diff := cmp.Diff(want, objects(t, out)); diff != "" {
		t.Errorf("release file with -pipeline-from bundle, against the one with cluster (-want +got):\n%s", diff)
	}
	for _, p := range []string{"run-name", "run-namespace", "group", "spec", "version", "name", "decided-at", "seq", "experiment", "namespace", "pipeline"} {
		if !strings.Contains(out, "$(tt.params."+p+")") {
			t.Errorf("$(tt.params.%s) is no longer in the release file", p)
		}
	}

	// The run the EventListener makes.
	bindings := map[string]*triggersv1beta1.TriggerBinding{}
	templates := map[string]*triggersv1beta1.TriggerTemplate{}
	var dispatch *triggersv1beta1.Trigger
	for _, m := range objects(t, out) {
		j, _ := sigsyaml.Marshal(m)
		switch m["kind"] {
		case "TriggerBinding":
			var b triggersv1beta1.TriggerBinding
			mustUnmarshal(t, j, &b)
			bindings[b.Name] = &b
		case "TriggerTemplate":
			var tt triggersv1beta1.TriggerTemplate
			mustUnmarshal(t, j, &tt)
			templates[tt.Name] = &tt
		case "Trigger":
			var tr triggersv1beta1.Trigger
			mustUnmarshal(t, j, &tr)
			if tr.Name == "autox" {
				dispatch = &tr
			}
		}
	}
	if dispatch == nil {
		t.Fatal("no Trigger autox in the release")
	}
	for _, pipeline := range []string{"autox", "autox-workers"} {
		ext := map[string]any{"autox": map[string]any{
			"group": "httpbin", "spec": "iter8", "version": "2.0.0", "name": "httpbin", "namespace": "default",
			"runName": "autox-httpbin-iter8-0123456789", "experiment": "tasks: [http]\nhttp:\n  url: http://httpbin.default/get\n",
			"decidedAt": "2026-11-27T10:00:00.123456789Z", "seq": "3", "runNamespace": "autox", "pipeline": pipeline,
		}}
		run := tektontest.PipelineRun(t, dispatch, bindings, templates, ext)
		wantRef := &tektonv1.PipelineRef{ResolverRef: tektonv1.ResolverRef{Resolver: "bundles", Params: tektonv1.Params{
			{Name: "bundle", Value: *tektonv1.NewStructuredValues(refs["pipeline/"+pipeline])},
			{Name: "name", Value: *tektonv1.NewStructuredValues(pipeline)},
			{Name: "kind", Value: *tektonv1.NewStructuredValues("pipeline")},
		}}}
		if diff := cmp.Diff(wantRef, run.Spec.PipelineRef); diff != "" {
			t.Errorf("%s: the PipelineRun's pipelineRef (-want +got):\n%s", pipeline, diff)
		}
		if run.Name != "autox-httpbin-iter8-0123456789" || run.Namespace != "autox" {
			t.Errorf("PipelineRun %s/%s, want autox/autox-httpbin-iter8-0123456789", run.Namespace, run.Name)
		}
		ctx := tektontest.WebhookContext(t)
		run.SetDefaults(ctx)
		if err := run.Validate(ctx); err != nil {
			t.Errorf("%s: Tekton refuses the PipelineRun: %v", pipeline, err)
		}
		obj, _, err := oci.NewResolver(refs["pipeline/"+pipeline], authn.NewMultiKeychain()).Get(context.Background(), "pipeline", pipeline)
		if err != nil {
			t.Fatalf("Tekton reading %s from the Pipelines' bundle: %v", pipeline, err)
		}
		if p, ok := obj.(*tektonv1.Pipeline); !ok || p.Name != pipeline {
			t.Errorf("the bundle holds %T, not the Pipeline %s", obj, pipeline)
		}
	}
}

func mustUnmarshal(t *testing.T, j []byte, v any) {
	t.Helper()
	if err := sigsyaml.UnmarshalStrict(j, v); err != nil {
		t.Fatal(err)
	}
}

// small is a release of four objects, for the cases below.
const small = `apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: say
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  image: example.com/say@sha256:0000000000000000000000000000000000000000000000000000000000000000
  command: [/ko-app/say]
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  steps:
    - name: say
      ref: {name: say}
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: greet
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  tasks:
    - name: hello
      taskRef: {kind: Task, name: hello}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata:
  name: autox
  namespace: autox-system
spec:
  params:
    - name: run-name
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata:
        name: $(tt.params.run-name)
      spec:
        pipelineRef: {name: greet}
`

// TestRunPlacesTheCatalog: the catalog objects go to -namespace, whether
// they had no namespace or that one; the install objects keep theirs; the
// bundles never carry one.
func TestRunPlacesTheCatalog(t *testing.T) {
	for _, tc := range []struct {
		name, namespace, input string
		want                   map[string]any // kind/name -> namespace
	}{
		{"no namespace, the default", DefaultNamespace, small,
			map[string]any{"StepAction/say": "autox", "Task/hello": "autox", "Pipeline/greet": "autox", "TriggerTemplate/autox": "autox-system", "ConfigMap/autox-bundles": "autox-system"}},
		{"another -namespace", "perf", small,
			map[string]any{"StepAction/say": "perf", "Task/hello": "perf", "Pipeline/greet": "perf", "TriggerTemplate/autox": "autox-system", "ConfigMap/autox-bundles": "autox-system"}},
		{"the namespace already given", DefaultNamespace, strings.Replace(small, "  name: hello\n", "  name: hello\n  namespace: autox\n", 1),
			map[string]any{"StepAction/say": "autox", "Task/hello": "autox", "Pipeline/greet": "autox", "TriggerTemplate/autox": "autox-system", "ConfigMap/autox-bundles": "autox-system"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(newRegistry(t) + "/autox")
			cfg.Namespace = tc.namespace
			out, list, _ := release(t, cfg, tc.input)
			got := map[string]any{}
			for _, m := range objects(t, out) {
				got[m["kind"].(string)+"/"+field(m, "metadata", "name").(string)] = field(m, "metadata", "namespace")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("namespaces (-want +got):\n%s", diff)
			}
			_, refs := parseList(t, list)
			for name, ref := range refs {
				kind, n, _ := strings.Cut(name, "/")
				obj, _, err := oci.NewResolver(ref, authn.NewMultiKeychain()).Get(context.Background(), kind, n)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				u, _ := runtimeToMap(obj)
				if ns := field(u, "metadata", "namespace"); ns != nil {
					t.Errorf("%s: the bundle's object has the namespace %v", name, ns)
				}
			}
		})
	}
}

// TestRunIsReproducible: the same input released twice gives the same
// release file and the same bundles, byte for byte.
func TestRunIsReproducible(t *testing.T) {
	host := newRegistry(t)
	input := resolved(t)
	cfg := config(host + "/autox")
	cfg.PipelineFrom = PipelineFromBundle
	out1, list1, _ := release(t, cfg, input)
	out2, list2, _ := release(t, cfg, input)
	if diff := cmp.Diff(list1, list2); diff != "" {
		t.Errorf("bundles.txt (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(out1, out2); diff != "" {
		t.Errorf("release file (-first +second):\n%s", diff)
	}
}

type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestRunRefuses: bad input is refused with every problem, each one line
// naming the file, the object (and its line), the field, the value and
// the fix; exit status 2; nothing is pushed and nothing written.
func TestRunRefuses(t *testing.T) {
	set := func(old, new string) string {
		if !strings.Contains(small, old) {
			t.Fatalf("fixture: %q is not in small", old)
		}
		return strings.Replace(small, old, new, 1)
	}
	const in = "IN"
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		input string
		want  string
	}{
		{"not YAML", nil, small + "---\nkind: [\n",
			in + ": not YAML (line 46: did not find expected node content); give the file ko resolve wrote"},
		{"nothing", nil, "# nothing\n", in + ": no object; give the file ko resolve wrote"},
		{"a document that is a list", nil, small + "---\n- a\n- b\n",
			in + ": line 46: a document that is not a mapping; each document is one Kubernetes object"},
		{"an object without kind", nil, small + "---\napiVersion: v1\nmetadata: {name: x}\n",
			in + ": line 46: an object without kind; each document is one Kubernetes object"},
		{"every document that is no object", nil, small + "---\n- a\n---\napiVersion: v1\nmetadata: {name: x}\n---\nowners: []\n",
			in + ": line 46: a document that is not a mapping; each document is one Kubernetes object\n" +
				in + ": line 48: an object without kind; each document is one Kubernetes object\n" +
				in + ": line 51: an object without apiVersion, kind, metadata.name; each document is one Kubernetes object"},
		{"no Pipeline", nil, strings.Split(small, "---\n")[0] + "---\n" + strings.Split(small, "---\n")[1],
			in + ": no Pipeline; the release bundles its Pipelines, which the ConfigMap autox-bundles names: give ko resolve pipelines/ too"},
		{"versions that differ", nil, set(`  name: greet
  labels: {app.kubernetes.io/version: "0.1"}`, `  name: greet
  labels: {app.kubernetes.io/version: "0.2"}`),
			in + `: Pipeline greet: metadata.labels[app.kubernetes.io/version]: "0.2" differs from "0.1" of StepAction say; every catalog object carries the same version, the bundles' tag`},
		{"a catalog object in another namespace", nil, set("  name: hello\n", "  name: hello\n  namespace: default\n"),
			in + `: Task hello (line 10): metadata.namespace: "default" differs from -namespace "autox"; a catalog object carries no namespace (the release sets it): remove it from the Task's YAML`},
		{"a step ref to no StepAction", nil, set("ref: {name: say}", "ref: {name: shout}"),
			in + `: Task hello: spec.steps[0].ref.name: "shout" names no StepAction of the release; add the StepAction's YAML to it, or refer to it through a resolver`},
		{"every problem at once", nil, set("  name: hello\n  labels: {app.kubernetes.io/version: \"0.1\"}", "  name: hello\n  namespace: default\n  labels: {app.kubernetes.io/version: \"0.3\"}"),
			in + `: Task hello (line 10): metadata.namespace: "default" differs from -namespace "autox"; a catalog object carries no namespace (the release sets it): remove it from the Task's YAML` + "\n" +
				in + `: Task hello: metadata.labels[app.kubernetes.io/version]: "0.3" differs from "0.1" of StepAction say; every catalog object carries the same version, the bundles' tag`},
		{"-pipeline-from bundle without the TriggerTemplate", func(c *Config) { c.PipelineFrom = PipelineFromBundle }, strings.Join(strings.Split(small, "---\n")[:3], "---\n"),
			in + ": -pipeline-from bundle: no TriggerTemplate autox (triggers.tekton.dev) to point at the Pipeline's bundle; give ko resolve triggers/, or leave -pipeline-from cluster"},
		{"-pipeline-from bundle, a PipelineRun of another Pipeline", func(c *Config) { c.PipelineFrom = PipelineFromBundle }, set("pipelineRef: {name: greet}", "pipelineRef: {name: other}"),
			in + `: TriggerTemplate autox (line 30): spec.resourcetemplates[0].spec.pipelineRef.name: "other" is not a Pipeline of the release (greet) nor a param ($(tt.params.pipeline)); with -pipeline-from bundle the PipelineRun takes the Pipelines' bundle: name one`},
		{"-pipeline-from bundle, no pipelineRef by name", func(c *Config) { c.PipelineFrom = PipelineFromBundle }, set("pipelineRef: {name: greet}", "pipelineSpec: {tasks: []}"),
			in + ": -pipeline-from bundle: no PipelineRun of the TriggerTemplate autox has pipelineRef: {name: greet} to point at the Pipeline's bundle; give ko resolve triggers/, or leave -pipeline-from cluster"},
		{"bad flags", func(c *Config) {
			c.Namespace, c.SystemNamespace, c.PipelineFrom, c.Registry.Repo = "Autox", "", "git", "Host/Autox"
		}, small,
			`-namespace: "Autox" is not a namespace name (a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')); write one such as autox` + "\n" +
				`-system-namespace: missing; give a namespace name, e.g. autox-system` + "\n" +
				`-pipeline-from: "git" is neither cluster nor bundle; write cluster (the Pipeline installed in the runs' namespace) or bundle (its bundle, pinned by digest)` + "\n" +
				`-repo: "Host/Autox" is not a valid repository (repository can only contain the characters ` + "`abcdefghijklmnopqrstuvwxyz0123456789_-./`" + `: Host/Autox/bundles/x); write host[:port]/path in lower case, e.g. 127.0.0.1:10290/autox`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int64
			dir := t.TempDir()
			cfg := config(newRegistry(t) + "/autox")
			cfg.Registry.Options = []remote.Option{remote.WithTransport(countingTransport{&requests})}
			cfg.In = filepath.Join(dir, "resolved.yaml")
			cfg.Out = filepath.Join(dir, "bin", "release.yaml")
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if err := os.WriteFile(cfg.In, []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Run(context.Background(), cfg, io.Discard)
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), cfg.In, in)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !badinput.Is(err) {
				t.Errorf("%v is not bad input (exit 2)", err)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests to the registry, want none", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "bin")); !os.IsNotExist(err) {
				t.Errorf("something was written: %v", err)
			}
		})
	}
}

// TestRunUnreachableRegistry: a registry that does not answer fails the
// release (not bad input: exit 3), in one line naming the bundle, the
// registry, the cause and the fix; nothing is written.
func TestRunUnreachableRegistry(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	closed := strings.TrimPrefix(s.URL, "http://")
	s.Close()
	dir := t.TempDir()
	cfg := config(closed + "/autox")
	cfg.In = filepath.Join(dir, "resolved.yaml")
	cfg.Out = filepath.Join(dir, "bin", "release.yaml")
	if err := os.WriteFile(cfg.In, []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), cfg, io.Discard)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	wantPrefix := "bundle stepaction/say: pushing " + closed + "/autox/bundles/say:v0.1: "
	wantSuffix := "; check that the registry answers and takes pushes (make cluster-up for the test cluster's, or set the repository to one you can push to)"
	if !strings.HasPrefix(got, wantPrefix) || !strings.HasSuffix(got, wantSuffix) || !strings.Contains(got, "connection refused") || strings.Contains(got, "\n") {
		t.Errorf("error %q, want one line %q<cause: connection refused>%q", got, wantPrefix, wantSuffix)
	}
	if badinput.Is(err) {
		t.Error("an unreachable registry is not bad input")
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "release.yaml")); !os.IsNotExist(err) {
		t.Errorf("the release file was written: %v", err)
	}
}
