// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// koPlatforms is defaultPlatforms of images/.ko.yaml: what `make images`
// and `make release` build.
func koPlatforms(t *testing.T) []string {
	t.Helper()
	p := filepath.Join(repoRoot(), "images", ".ko.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		DefaultPlatforms []string `json:"defaultPlatforms"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return cfg.DefaultPlatforms
}

// TestKoYAMLBuildsEveryPlatformOfTheBase: ko builds a platform only if the
// base has it, and skips one it lacks without a word, so .ko.yaml must ask
// for exactly the base's platforms, and those are issue 20's.
func TestKoYAMLBuildsEveryPlatformOfTheBase(t *testing.T) {
	var base []string
	for _, p := range Platforms() {
		base = append(base, p.String())
	}
	if diff := cmp.Diff(wantPlatforms(), base); diff != "" {
		t.Errorf("the base's platforms (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(base, koPlatforms(t)); diff != "" {
		t.Errorf("images/.ko.yaml defaultPlatforms, against the base's platforms (-want +got):\n%s", diff)
	}
}

// TestCatalogPlatformsAreWhatKoBuilds: the tekton.dev/platforms annotation
// of every catalog file (stepactions/, tasks/ and pipelines/, each
// <name>/<name>.yaml) lists exactly images/.ko.yaml's defaultPlatforms, in
// its order, comma-separated.
func TestCatalogPlatformsAreWhatKoBuilds(t *testing.T) {
	want := koPlatforms(t)
	root := repoRoot()
	for _, kind := range []string{"stepactions", "tasks", "pipelines"} {
		files, err := filepath.Glob(filepath.Join(root, kind, "*", "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range files {
			dir := filepath.Base(filepath.Dir(f))
			if filepath.Base(f) != dir+".yaml" {
				continue
			}
			n++
			rel := filepath.Join(kind, dir, dir+".yaml")
			t.Run(rel, func(t *testing.T) {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var obj struct {
					Metadata struct {
						Annotations map[string]string `json:"annotations"`
					} `json:"metadata"`
				}
				if err := yaml.Unmarshal(b, &obj); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				a, ok := obj.Metadata.Annotations["tekton.dev/platforms"]
				if !ok {
					t.Fatalf("%s: no annotation tekton.dev/platforms; write %q", rel, strings.Join(want, ","))
				}
				if diff := cmp.Diff(want, strings.Split(a, ",")); diff != "" {
					t.Errorf("%s: tekton.dev/platforms %q is not what images/.ko.yaml builds; write %q (-want +got):\n%s", rel, a, strings.Join(want, ","), diff)
				}
			})
		}
		if n == 0 {
			t.Errorf("no catalog file %s/<name>/<name>.yaml: has the catalog moved?", kind)
		}
	}
}
