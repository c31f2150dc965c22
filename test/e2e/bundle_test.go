// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// The catalog's bundles, as make release pushes them: what tkn bundle list
// shows of each, a run of the Pipeline resolved from its bundle by Tekton's
// bundles resolver (through the TriggerTemplate of make release
// PIPELINE_FROM=bundle, on kubectl label), and the admission policy's
// refusal of any bundle the install did not push.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// bundleRef is one line of bin/bundles.txt: kind/name=ref@digest.
type bundleRef struct{ kind, name, ref string }

// bundles reads bin/bundles.txt, which make release wrote.
func bundles(t *testing.T, release string) []bundleRef {
	t.Helper()
	f, err := os.Open(filepath.Join(filepath.Dir(release), "bundles.txt"))
	if err != nil {
		t.Fatalf("make release wrote no bundles.txt beside %s: %v", release, err)
	}
	defer f.Close()
	var out []bundleRef
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kn, ref, ok := strings.Cut(sc.Text(), "=")
		kind, name, ok2 := strings.Cut(kn, "/")
		if !ok || !ok2 || !strings.Contains(ref, "@sha256:") {
			t.Fatalf("bundles.txt line %q is not kind/name=ref@sha256:digest", sc.Text())
		}
		out = append(out, bundleRef{kind, name, ref})
	}
	if len(out) != 11 {
		t.Fatalf("bundles.txt lists %d bundles; want 11 (4 StepActions, 5 Tasks, 2 Pipelines)", len(out))
	}
	return out
}

// TestBundles: every resource's bundle holds that resource (the
// Pipelines' one bundle both Pipelines), as tkn bundle list reads it from
// the registry the cluster pulls from; the Pipeline runs from its bundle
// when the TriggerTemplate says so; a bundle the install did not push is
// refused.
func TestBundles(t *testing.T) {
	c := triggersUp(t)
	rel, err := releaseYAML(t)
	if err != nil {
		t.Fatal(err)
	}
	refs := bundles(t, rel)
	podRegistry := harnessEnv(t)["AUTOX_POD_REGISTRY"]
	var pipeline string
	for _, b := range refs {
		if !strings.HasPrefix(b.ref, podRegistry+"/") {
			t.Errorf("bundle %s/%s is %s; want it in %s, where the resolver pulls from", b.kind, b.name, b.ref, podRegistry)
		}
		// The same registry, as this machine reaches it (the traffic guard
		// keeps pod addresses, the bridge's too, for the pods).
		local := harnessEnv(t)["AUTOX_REGISTRY"] + strings.TrimPrefix(b.ref, podRegistry)
		out, err := exec.Command(tkn(t), "bundle", "list", local, "-o", "name").CombinedOutput()
		if err != nil {
			t.Errorf("tkn bundle list %s: %v\n%s", local, err, out)
			continue
		}
		// The Pipelines share one bundle (the trigger names the one a run
		// runs); every other resource has its own.
		want := []string{b.kind + ".tekton.dev/" + b.name}
		if b.kind == "pipeline" {
			want = []string{"pipeline.tekton.dev/autox", "pipeline.tekton.dev/autox-workers"}
		}
		// tkn prints a warning line first (bundle commands are
		// experimental); what the bundle holds is the other lines.
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if !strings.HasPrefix(line, "*Warning*") {
				got = append(got, strings.TrimSpace(line))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("tkn bundle list %s shows %q; want %q", local, got, want)
		}
		if b.kind == "pipeline" && b.name == "autox" {
			pipeline = b.ref
		}
	}
	t.Logf("e2e: tkn bundle list: each of the %d bundles holds its resource", len(refs))

	step(t, "a PipelineRun of a bundle the install did not push is refused")
	other := strings.Replace(pipeline, "/bundles/autox@", "/bundles/autox-experiment@", 1)
	for _, ref := range []string{other, strings.SplitN(pipeline, "@", 2)[0] + ":latest"} {
		pr := fmt.Sprintf(`apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {generateName: foreign-bundle-}
spec:
  pipelineRef:
    resolver: bundles
    params: [{name: bundle, value: %q}, {name: name, value: autox}, {name: kind, value: pipeline}]
  taskRunTemplate: {serviceAccountName: autox}
  params: [{name: experiment, value: "tasks: [http]"}]
`, ref)
		out, err := kubectl(t, pr, "create", "-n", autoxNS, "-f", "-")
		if err == nil || !strings.Contains(out, "autox-pipelineruns") || !strings.Contains(out, pipeline) {
			t.Errorf("PipelineRun of bundle %s: %v\n%s\nwant the policy autox-pipelineruns to refuse it, naming %s", ref, err, out, pipeline)
		}
	}

	step(t, "make release PIPELINE_FROM=bundle: the TriggerTemplate runs the Pipeline from its bundle")
	tt, pipeline := triggerTemplate(t, "bundle")
	restore, _ := triggerTemplate(t, "cluster")
	t.Cleanup(func() {
		if err := applyRetrying(t, 30*time.Second, "-f", writeTemp(t, restore)); err != nil {
			t.Errorf("restoring the TriggerTemplate: %v", err)
		}
	})
	if err := applyRetrying(t, 30*time.Second, "-f", writeTemp(t, tt)); err != nil {
		t.Fatal(err)
	}
	light(t, c)
	label(t, "light", "9.0.0")
	t.Cleanup(func() { unlabel(t, "light") })
	runs := waitRuns(t, c, "light", 1, 60*time.Second)
	r := runs[0]
	ref, _, _ := unstructured.NestedMap(r.Object, "spec", "pipelineRef")
	if ref["resolver"] != "bundles" || !strings.Contains(fmt.Sprint(ref["params"]), pipeline) {
		t.Fatalf("run %s has pipelineRef %v; want the bundles resolver with %s", r.GetName(), ref, pipeline)
	}
	obj, status, reason := waitDone(t, c, r.GetName(), 5*time.Minute)
	if status != "True" {
		out, _ := exec.Command(tkn(t), "pipelinerun", "logs", r.GetName(), "-n", autoxNS).CombinedOutput()
		t.Fatalf("run %s from the bundle: %s %s\n%s", r.GetName(), status, reason, out)
	}
	uri, _, _ := unstructured.NestedString(obj.Object, "status", "provenance", "refSource", "uri")
	if !strings.Contains(pipeline, uri) || uri == "" {
		t.Errorf("run %s: status.provenance.refSource.uri %q; want the Pipeline bundle %s", r.GetName(), uri, pipeline)
	}
	trs, err := c.Dynamic.Resource(taskRunsGVR).Namespace(autoxNS).List(context.Background(), metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + r.GetName()})
	if err != nil || len(trs.Items) == 0 {
		t.Fatalf("TaskRuns of %s: %v (%d)", r.GetName(), err, len(trs.Items))
	}
	for _, tr := range trs.Items {
		resolver, _, _ := unstructured.NestedString(tr.Object, "spec", "taskRef", "resolver")
		if resolver != "bundles" {
			t.Errorf("TaskRun %s has taskRef resolver %q; want bundles (the Pipeline bundle pins the Task bundles)", tr.GetName(), resolver)
		}
	}
	t.Logf("e2e: run %s resolved the Pipeline from %s and its %d Tasks from their bundles; Succeeded", r.GetName(), pipeline, len(trs.Items))
}

// triggerTemplate is the TriggerTemplate autox and the ConfigMap
// autox-bundles of a release made with PIPELINE_FROM=from (images/ko.sh
// release into a folder of the test's own), and the Pipeline bundle it
// pushed.
func triggerTemplate(t *testing.T, from string) (docs, pipeline string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "release.yaml")
	files, err := exec.Command("make", "-s", "-C", "../..", "--no-print-directory", "-f", "Makefile", "print-release-files").Output()
	if err != nil {
		t.Fatalf("make print-release-files: %v", err)
	}
	cmd := exec.Command("./images/ko.sh", append([]string{"release", out}, strings.Fields(string(files))...)...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "PIPELINE_FROM="+from)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("images/ko.sh release with PIPELINE_FROM=%s: %v\n%s", from, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var m struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal([]byte(doc), &m) != nil {
			continue
		}
		if (m.Kind == "TriggerTemplate" && m.Metadata.Name == "autox") || (m.Kind == "ConfigMap" && m.Metadata.Name == "autox-bundles") {
			found = append(found, doc)
		}
	}
	if len(found) != 2 {
		t.Fatalf("%s (PIPELINE_FROM=%s) has %d of the TriggerTemplate autox and the ConfigMap autox-bundles", out, from, len(found))
	}
	for _, b := range bundles(t, out) {
		if b.kind == "pipeline" && b.name == "autox" {
			pipeline = b.ref
		}
	}
	return strings.Join(found, "\n---\n"), pipeline
}
