// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package bundle

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	tektonv1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"github.com/tektoncd/pipeline/pkg/remote"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
)

const (
	taskJSON       = `{"apiVersion":"tekton.dev/v1","kind":"Task","metadata":{"labels":{"app.kubernetes.io/version":"0.1"},"name":"hello"},"spec":{"steps":[{"command":["/ko-app/hello"],"image":"example.com/hello@sha256:0000000000000000000000000000000000000000000000000000000000000000","name":"hello"}]}}`
	stepActionJSON = `{"apiVersion":"tekton.dev/v1beta1","kind":"StepAction","metadata":{"labels":{"app.kubernetes.io/version":"0.1"},"name":"say"},"spec":{"command":["/ko-app/say"],"image":"example.com/say@sha256:0000000000000000000000000000000000000000000000000000000000000000"}}`
	pipelineJSON   = `{"apiVersion":"tekton.dev/v1","kind":"Pipeline","metadata":{"labels":{"app.kubernetes.io/version":"0.1"},"name":"greet"},"spec":{"tasks":[{"name":"hello","taskRef":{"kind":"Task","name":"hello"}}]}}`
)

func mustObject(t *testing.T, data string) Object {
	t.Helper()
	o, err := NewObject([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// layerView is what a reader of the bundle sees of one layer.
type layerView struct {
	MediaType   types.MediaType
	Annotations map[string]string
	Files       []string // name mode size
	Content     string
}

func view(t *testing.T, img v1.Image) (types.MediaType, []layerView) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []layerView
	for i, d := range m.Layers {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		v := layerView{MediaType: d.MediaType, Annotations: d.Annotations}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			v.Files = append(v.Files, fmt.Sprintf("%s %o %d %s", h.Name, h.Mode, h.Size, h.ModTime.UTC().Format("2006-01-02")))
			b, _ := io.ReadAll(tr)
			v.Content += string(b)
		}
		rc.Close()
		out = append(out, v)
	}
	return m.MediaType, out
}

// TestImageFollowsTheContract: one layer per resource, sorted by kind and
// name; each an OCI gzip tar of one file named after the resource that
// holds its JSON; each annotated with its apiVersion, lower-case kind and
// name.
func TestImageFollowsTheContract(t *testing.T) {
	annotations := func(apiVersion, kind, name string) map[string]string {
		return map[string]string{AnnotationAPIVersion: apiVersion, AnnotationKind: kind, AnnotationName: name}
	}
	for _, tc := range []struct {
		name string
		objs []string
		want []layerView
	}{
		{"a Task", []string{taskJSON}, []layerView{
			{types.OCILayer, annotations("tekton.dev/v1", "task", "hello"), []string{fmt.Sprintf("hello 600 %d 1970-01-01", len(taskJSON))}, taskJSON},
		}},
		{"a StepAction", []string{stepActionJSON}, []layerView{
			{types.OCILayer, annotations("tekton.dev/v1beta1", "stepaction", "say"), []string{fmt.Sprintf("say 600 %d 1970-01-01", len(stepActionJSON))}, stepActionJSON},
		}},
		{"three kinds, given in any order", []string{taskJSON, stepActionJSON, pipelineJSON}, []layerView{
			{types.OCILayer, annotations("tekton.dev/v1", "pipeline", "greet"), []string{fmt.Sprintf("greet 600 %d 1970-01-01", len(pipelineJSON))}, pipelineJSON},
			{types.OCILayer, annotations("tekton.dev/v1beta1", "stepaction", "say"), []string{fmt.Sprintf("say 600 %d 1970-01-01", len(stepActionJSON))}, stepActionJSON},
			{types.OCILayer, annotations("tekton.dev/v1", "task", "hello"), []string{fmt.Sprintf("hello 600 %d 1970-01-01", len(taskJSON))}, taskJSON},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []Object
			for _, s := range tc.objs {
				objs = append(objs, mustObject(t, s))
			}
			img, err := Image(objs...)
			if err != nil {
				t.Fatal(err)
			}
			mt, got := view(t, img)
			if mt != types.OCIManifestSchema1 {
				t.Errorf("manifest media type %s, want %s", mt, types.OCIManifestSchema1)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("layers (-want +got):\n%s", diff)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if got := cf.Created.UTC().Format("2006-01-02T15:04:05Z"); got != "1970-01-01T00:00:00Z" {
				t.Errorf("created %s, want the Unix epoch", got)
			}
		})
	}
}

// TestImageIsReproducible: the same objects, in any order, give the same
// digest; another object gives another.
func TestImageIsReproducible(t *testing.T) {
	digest := func(objs ...string) string {
		var os []Object
		for _, s := range objs {
			os = append(os, mustObject(t, s))
		}
		img, err := Image(os...)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	a := digest(taskJSON, pipelineJSON)
	if b := digest(taskJSON, pipelineJSON); a != b {
		t.Errorf("two builds differ: %s, %s", a, b)
	}
	if b := digest(pipelineJSON, taskJSON); a != b {
		t.Errorf("the order of the objects changes the digest: %s, %s", a, b)
	}
	if b := digest(taskJSON); a == b {
		t.Errorf("another set of objects gives the same digest %s", a)
	}
}

// TestImageRefuses: what the contract forbids is refused, in one line
// that says why and what to do.
func TestImageRefuses(t *testing.T) {
	many := make([]Object, 21)
	for i := range many {
		many[i] = mustObject(t, strings.Replace(taskJSON, `"name":"hello"}`, fmt.Sprintf(`"name":"t%d"}`, i), 1))
	}
	for _, tc := range []struct {
		name string
		objs []Object
		want string
	}{
		{"nothing", nil, "a bundle needs at least one resource"},
		{"more than 20", many, "21 resources in one bundle; the bundle contract allows at most 20: split them"},
		{"twice the same", []Object{mustObject(t, taskJSON), mustObject(t, taskJSON)},
			"task/hello (tekton.dev/v1) is given twice; a bundle holds each resource once"},
		{"no kind", []Object{{APIVersion: "tekton.dev/v1", Name: "x", JSON: []byte("{}")}},
			"a resource without kind cannot be bundled: the contract annotates each layer with them; write them in the resource"},
		{"a kind ending in s", []Object{{APIVersion: "example.com/v1", Kind: "Process", Name: "x", JSON: []byte("{}")}},
			`process/x: kind "Process" ends in s, which Tekton's bundles resolver reads as a plural and refuses`},
		{"not JSON", []Object{{APIVersion: "tekton.dev/v1", Kind: "Task", Name: "x", JSON: []byte("kind: Task")}},
			"task/x: its content is not JSON; a bundle layer holds the resource as JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Image(tc.objs...)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// newRegistry is an in-process registry on loopback; it returns its host.
func newRegistry(t *testing.T) string {
	t.Helper()
	return strings.TrimPrefix(newRegistryServer(t).URL, "http://")
}

func newRegistryServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	return s
}

// TestTektonReadsTheBundle: Tekton's own OCI bundle reader (pkg/remote/oci,
// which tkn bundle list uses too) lists the pushed bundle's layers and
// decodes each object with Tekton's scheme.
func TestTektonReadsTheBundle(t *testing.T) {
	ctx := context.Background()
	reg := Registry{Repo: newRegistry(t) + "/autox"}
	img, err := Image(mustObject(t, taskJSON), mustObject(t, stepActionJSON), mustObject(t, pipelineJSON))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reg.Push(ctx, "all", "v0.1", img)
	if err != nil {
		t.Fatal(err)
	}
	if want := reg.Repo + "/bundles/all@"; !strings.HasPrefix(ref, want) {
		t.Fatalf("ref %s, want %s...", ref, want)
	}
	r := oci.NewResolver(ref, authn.NewMultiKeychain())
	list, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []remote.ResolvedObject{
		{Kind: "pipeline", APIVersion: "tekton.dev/v1", Name: "greet"},
		{Kind: "stepaction", APIVersion: "tekton.dev/v1beta1", Name: "say"},
		{Kind: "task", APIVersion: "tekton.dev/v1", Name: "hello"},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ kind, name, want string }{
		{"task", "hello", "*v1.Task hello"},
		{"stepaction", "say", "*v1beta1.StepAction say"},
		{"pipeline", "greet", "*v1.Pipeline greet"},
	} {
		obj, _, err := r.Get(ctx, tc.kind, tc.name)
		if err != nil {
			t.Errorf("Get(%s, %s): %v", tc.kind, tc.name, err)
			continue
		}
		got := fmt.Sprintf("%T", obj)
		switch o := obj.(type) {
		case *tektonv1.Task:
			got += " " + o.Name
		case *v1beta1.StepAction:
			got += " " + o.Name
		case *tektonv1.Pipeline:
			got += " " + o.Name
		}
		if got != tc.want {
			t.Errorf("Get(%s, %s) = %s, want %s", tc.kind, tc.name, got, tc.want)
		}
	}
}
