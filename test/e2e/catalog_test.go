// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

// The catalog as a Tekton user takes it, without autox's install: the
// StepActions, Tasks and Pipeline of release.yaml applied in a namespace of
// the user's own, and each resource's tests/run.yaml run there.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// catalogNS is the user's namespace of TestCatalogTests.
const catalogNS = "autox-catalog"

// catalogObjects are the Tasks, StepActions and the Pipeline of
// release.yaml (images pinned by digest), without their namespace.
func catalogObjects(t *testing.T, release string) string {
	t.Helper()
	b, err := os.ReadFile(release)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, doc := range strings.Split(string(b), "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil || obj.Object == nil {
			continue
		}
		switch obj.GetKind() {
		case "Task", "StepAction", "Pipeline":
		default:
			continue
		}
		obj.SetNamespace("")
		out, err := yaml.Marshal(obj.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(out))
	}
	if len(docs) != 11 {
		t.Fatalf("%s holds %d Tasks, StepActions and Pipelines; want 11 (4 StepActions, 5 Tasks, 2 Pipelines)", release, len(docs))
	}
	return strings.Join(docs, "\n---\n")
}

// catalogRBAC: the ServiceAccount autox of the user's namespace, with what
// the runs need there (the result ConfigMaps) and, in default, what ready
// waits for (the ClusterRole autox-ready of the install).
const catalogRBAC = `apiVersion: v1
kind: ServiceAccount
metadata: {name: autox}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: autox-catalog}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, create, update]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: autox-catalog}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: autox-catalog}
subjects: [{kind: ServiceAccount, name: autox}]
`

// TestCatalogTests: every catalog resource's tests/run.yaml succeeds in a
// namespace of its own where the catalog was applied as a user would.
func TestCatalogTests(t *testing.T) {
	c := installed(t)
	rel, err := releaseYAML(t)
	if err != nil {
		t.Fatal(err)
	}
	step(t, "namespace %s (restricted): the catalog's resources, a ServiceAccount autox", catalogNS)
	kubectl(t, "", "delete", "namespace", catalogNS, "--wait=true", "--ignore-not-found")
	if out, err := kubectl(t, "", "create", "namespace", catalogNS); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() { kubectl(t, "", "delete", "namespace", catalogNS, "--wait=false") })
	if out, err := kubectl(t, "", "label", "namespace", catalogNS, "pod-security.kubernetes.io/enforce=restricted"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := t.TempDir()
	files := map[string]string{"catalog.yaml": catalogObjects(t, rel), "rbac.yaml": catalogRBAC}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := applyRetrying(t, 30*time.Second, "-n", catalogNS, "-f", filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	binding := fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: autox-catalog-ready}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: autox-ready}
subjects: [{kind: ServiceAccount, name: autox, namespace: %s}]
`, catalogNS)
	if out, err := kubectl(t, binding, "apply", "-n", seedNS, "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Cleanup(func() { kubectl(t, "", "delete", "-n", seedNS, "rolebinding", "autox-catalog-ready") })

	runs, err := filepath.Glob("../../*/*/tests/run.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(runs)
	if len(runs) != 11 {
		t.Fatalf("found %d tests/run.yaml: %v; want one per catalog resource (11)", len(runs), runs)
	}
	tknPath := tkn(t)
	var wg sync.WaitGroup
	for _, f := range runs {
		rel := strings.TrimPrefix(f, "../../")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs := apply(t, c, catalogNS, string(b))
		if len(objs) != 1 {
			t.Fatalf("%s: %d objects; want one run", rel, len(objs))
		}
		obj := objs[0]
		wg.Add(1)
		go func() {
			defer wg.Done()
			gvr := taskRunsGVR
			kind := "taskrun"
			if obj.GetKind() == "PipelineRun" {
				gvr, kind = pipelineRunsGVR, "pipelinerun"
			}
			deadline := time.Now().Add(4 * time.Minute)
			for {
				got, err := c.Dynamic.Resource(gvr).Namespace(catalogNS).Get(context.Background(), obj.GetName(), metav1.GetOptions{})
				if err == nil {
					if status, reason, msg := condition(got); status == "True" {
						t.Logf("e2e: catalog test %s: %s %s succeeded", rel, kind, obj.GetName())
						return
					} else if status == "False" {
						logs, _ := exec.Command(tknPath, kind, "logs", obj.GetName(), "-n", catalogNS).CombinedOutput()
						t.Errorf("%s: %s %s %s: %s\n%s", rel, kind, obj.GetName(), reason, msg, logs)
						return
					}
				}
				if time.Now().After(deadline) {
					t.Errorf("%s: %s %s not done after 4m (%v)", rel, kind, obj.GetName(), err)
					return
				}
				time.Sleep(time.Second)
			}
		}()
	}
	wg.Wait()
}
