// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package tekton_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
)

// TestAutoxVersionLabel: app.kubernetes.io/version on autox's own objects
// is autox's version, contract.AutoxVersion, wherever it appears: on each
// object of the install (triggers/*.yaml; the examples are the user's),
// on their pod templates, on the runs the TriggerTemplate makes, and on
// each catalog resource (<folder>/<name>/<name>.yaml), which carries it
// without fail (the bundles are tagged v<version>). The version under test
// is autox.dev/version, never this label.
func TestAutoxVersionLabel(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "triggers", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var catalogFiles []string
	for top := range catalogKinds {
		dirs, err := os.ReadDir(filepath.Join(root, top))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			if d.IsDir() {
				catalogFiles = append(catalogFiles, filepath.Join(root, top, d.Name(), d.Name()+".yaml"))
			}
		}
	}
	if len(files) == 0 || len(catalogFiles) != 11 {
		t.Fatalf("%d files in triggers/ and %d catalog resources; want some, and 11 (4 StepActions, 5 Tasks, 2 Pipelines)", len(files), len(catalogFiles))
	}
	got, want := map[string]string{}, map[string]string{}
	for _, f := range append(files, catalogFiles...) {
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := versionLabels(t, rel, b)
		for where, v := range found {
			got[where] = v
			want[where] = contract.AutoxVersion
		}
		if slices.Contains(catalogFiles, f) {
			top, rest, _ := strings.Cut(rel, "/")
			name, _, _ := strings.Cut(rest, "/")
			_, kind, _ := strings.Cut(strings.TrimPrefix(catalogKinds[top], "tekton.dev/"), "/")
			want[rel+" "+kind+" "+name+" metadata.labels"] = contract.AutoxVersion
		}
	}
	// Where the label has to be, whatever the files say.
	for _, where := range []string{
		"triggers/interceptor.yaml Deployment autox-interceptor spec.template.metadata.labels",
		"triggers/eventlistener.yaml TriggerTemplate autox spec.resourcetemplates[0].metadata.labels",
	} {
		want[where] = contract.AutoxVersion
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("app.kubernetes.io/version on autox's objects, by file, object and path (-want +got); want autox's version %q (contract.AutoxVersion) on each:\n%s", contract.AutoxVersion, diff)
	}
}

// versionLabels finds every labels map with app.kubernetes.io/version in
// the YAML documents of b, by "<where> <kind> <name> <path>".
func versionLabels(t *testing.T, where string, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if v == nil {
			continue // only comments
		}
		meta, _ := v["metadata"].(map[string]any)
		object := fmt.Sprintf("%s %v %v", where, v["kind"], meta["name"])
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					p := strings.TrimPrefix(path+"."+k, ".")
					if l, ok := e.(map[string]any); ok && k == "labels" {
						if ver, ok := l[contract.VersionLabel]; ok {
							out[object+" "+p] = fmt.Sprint(ver)
						}
					}
					walk(p, e)
				}
			case []any:
				for i, e := range v {
					walk(fmt.Sprintf("%s[%d]", path, i), e)
				}
			}
		}
		walk("", v)
	}
}
