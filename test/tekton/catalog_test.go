// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package tekton_test

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/contract"
)

// The catalog's three Artifact Hub repositories: a folder each, and the
// kind of the resources in it (git-based versioning: <name>/<name>.yaml).
var catalogKinds = map[string]string{
	"stepactions": "tekton.dev/v1beta1/StepAction",
	"tasks":       "tekton.dev/v1/Task",
	"pipelines":   "tekton.dev/v1/Pipeline",
}

// What Artifact Hub documents for a Tekton manifest's annotations
// (artifacthub.io/docs/topics/annotations/tekton) and the values it
// takes.
var (
	artifactHubAnnotations = []string{
		"artifacthub.io/alternativeName", "artifacthub.io/category", "artifacthub.io/changes",
		"artifacthub.io/license", "artifacthub.io/links", "artifacthub.io/maintainers",
		"artifacthub.io/provider", "artifacthub.io/recommendations", "artifacthub.io/screenshots",
	}
	artifactHubCategories = []string{
		"ai-machine-learning", "database", "integration-delivery", "monitoring-logging",
		"networking", "security", "storage", "streaming-messaging", "skip-prediction",
	}
	changeKinds = []string{"added", "changed", "deprecated", "removed", "fixed", "security"}
)

// TestCatalogLayout: each Artifact Hub repository folder has its
// artifacthub-repo.yml, and each resource its folder with <name>.yaml
// (one object of the folder's kind, named as the folder), README.md, at
// least one sample and tests/run.yaml.
func TestCatalogLayout(t *testing.T) {
	objs := map[string]object{}
	for _, o := range readAll(t) {
		objs[o.where] = o
	}
	for top, kind := range catalogKinds {
		t.Run(top, func(t *testing.T) {
			repoFile(t, filepath.Join(root, top, "artifacthub-repo.yml"))
			dirs, err := os.ReadDir(filepath.Join(root, top))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, d := range dirs {
				if !d.IsDir() {
					if d.Name() != "artifacthub-repo.yml" {
						t.Errorf("%s/%s: only resource folders and artifacthub-repo.yml belong here", top, d.Name())
					}
					continue
				}
				n++
				name := d.Name()
				o, ok := objs[top+"/"+name+"/"+name+".yaml"]
				if !ok || o.kind != kind || o.name != name {
					t.Errorf("%s/%s/%s.yaml: want one %s named %s, got %q %q", top, name, name, kind, name, o.kind, o.name)
				}
				for _, f := range []string{"README.md", "tests/run.yaml"} {
					if _, err := os.Stat(filepath.Join(root, top, name, f)); err != nil {
						t.Errorf("%s/%s: %v", top, name, err)
					}
				}
				samples, _ := filepath.Glob(filepath.Join(root, top, name, "samples", "*.yaml"))
				if len(samples) == 0 {
					t.Errorf("%s/%s: no samples/*.yaml", top, name)
				}
			}
			if n == 0 {
				t.Errorf("%s: no resource", top)
			}
		})
	}
}

// repoFile checks an artifacthub-repo.yml: only the documented keys, and
// owners with a name and an email.
func repoFile(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		RepositoryID string `json:"repositoryID,omitempty"`
		Owners       []struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"owners"`
		Ignore []struct {
			Name    string `json:"name"`
			Version string `json:"version,omitempty"`
		} `json:"ignore,omitempty"`
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s: %v (Artifact Hub documents repositoryID, owners and ignore)", p, err)
	}
	if len(f.Owners) == 0 {
		t.Errorf("%s: no owners", p)
	}
	for _, o := range f.Owners {
		if o.Name == "" || !strings.Contains(o.Email, "@") {
			t.Errorf("%s: owner %+v needs a name and an email", p, o)
		}
	}
}

// TestCatalogMetadata: the labels and annotations Tekton's catalog and
// Artifact Hub read, on every catalog resource: one version for the
// catalog and the install (autox's own, contract.AutoxVersion; see also
// TestAutoxVersionLabel), the oldest Tekton the harness
// tests as minVersion, and the artifacthub.io annotations with values
// Artifact Hub takes.
func TestCatalogMetadata(t *testing.T) {
	oldest := oldestTekton(t)
	n := 0
	for _, o := range readAll(t) {
		top, rest, _ := strings.Cut(o.where, "/")
		name, file, _ := strings.Cut(rest, "/")
		if catalogKinds[top] == "" || file != name+".yaml" {
			continue
		}
		n++
		m := o.value.(metav1.Object)
		t.Run(o.where, func(t *testing.T) {
			if v := m.GetLabels()["app.kubernetes.io/version"]; v != contract.AutoxVersion {
				t.Errorf("app.kubernetes.io/version %q; want autox's version %q (contract.AutoxVersion), as the install's objects", v, contract.AutoxVersion)
			}
			a := m.GetAnnotations()
			if got := a["tekton.dev/pipelines.minVersion"]; got != strings.TrimPrefix(oldest, "v") {
				t.Errorf("tekton.dev/pipelines.minVersion %q; want %q, the oldest the harness tests (TEKTON_OLDEST in test/cluster/lib.sh)", got, strings.TrimPrefix(oldest, "v"))
			}
			for k := range a {
				if strings.HasPrefix(k, "artifacthub.io/") && !slices.Contains(artifactHubAnnotations, k) {
					t.Errorf("annotation %s: Artifact Hub documents no such annotation for Tekton", k)
				}
			}
			if c := a["artifacthub.io/category"]; !slices.Contains(artifactHubCategories, c) {
				t.Errorf("artifacthub.io/category %q; want one of %v", c, artifactHubCategories)
			}
			if l := a["artifacthub.io/license"]; l != "Apache-2.0" {
				t.Errorf("artifacthub.io/license %q; want Apache-2.0 (LICENSE)", l)
			}
			var links []struct{ Name, URL string }
			if err := yaml.UnmarshalStrict([]byte(a["artifacthub.io/links"]), &links); err != nil || len(links) == 0 {
				t.Errorf("artifacthub.io/links: %v; want a list of {name, url}", err)
			}
			for _, l := range links {
				if u, err := url.Parse(l.URL); err != nil || u.Scheme != "https" || l.Name == "" {
					t.Errorf("artifacthub.io/links: %+v; want a name and an https URL", l)
				}
			}
			var maintainers []struct{ Name, Email string }
			if err := yaml.UnmarshalStrict([]byte(a["artifacthub.io/maintainers"]), &maintainers); err != nil || len(maintainers) == 0 {
				t.Errorf("artifacthub.io/maintainers: %v; want a list of {name, email}", err)
			}
			for _, mt := range maintainers {
				if mt.Name == "" || !strings.Contains(mt.Email, "@") {
					t.Errorf("artifacthub.io/maintainers: %+v; want a name and an email", mt)
				}
			}
			var changes []struct{ Kind, Description string }
			if err := yaml.UnmarshalStrict([]byte(a["artifacthub.io/changes"]), &changes); err != nil || len(changes) == 0 {
				t.Errorf("artifacthub.io/changes: %v; want a list of {kind, description}", err)
			}
			for _, c := range changes {
				if !slices.Contains(changeKinds, c.Kind) || c.Description == "" {
					t.Errorf("artifacthub.io/changes: %+v; want kind one of %v and a description", c, changeKinds)
				}
			}
		})
	}
	if n != 11 {
		t.Errorf("%d catalog resources; want 11 (4 StepActions, 5 Tasks, 2 Pipelines)", n)
	}
}

var oldestRE = regexp.MustCompile(`(?m)^TEKTON_OLDEST=(v[0-9.]+)$`)

// oldestTekton is TEKTON_OLDEST of test/cluster/lib.sh: the oldest
// Tekton Pipelines the harness runs (make e2e-oldest).
func oldestTekton(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "test/cluster/lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := oldestRE.FindSubmatch(b)
	if m == nil {
		t.Fatal("test/cluster/lib.sh sets no TEKTON_OLDEST=vX.Y.Z")
	}
	return string(m[1])
}

// TestLicense: the Apache License 2.0, as Tekton's own.
func TestLicense(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Fields(string(b[:min(len(b), 200)]))
	if diff := cmp.Diff([]string{"Apache", "License", "Version", "2.0,", "January", "2004"}, head[:6]); diff != "" {
		t.Errorf("LICENSE is not the Apache License 2.0 (-want +got):\n%s", diff)
	}
}

// TestLicenseHeaders: every source file and script says its license in
// its first lines, as Tekton's do (here in SPDX's short form).
func TestLicenseHeaders(t *testing.T) {
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	n := 0
	for _, f := range strings.Fields(string(out)) {
		base := filepath.Base(f)
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		script := !strings.Contains(base, ".") && strings.HasPrefix(string(b), "#!")
		if !script && base != "Makefile" && !slices.Contains([]string{".go", ".sh", ".proto"}, filepath.Ext(f)) {
			continue
		}
		n++
		head := strings.Join(strings.SplitN(string(b), "\n", 5)[:min(4, strings.Count(string(b), "\n"))], "\n")
		if !strings.Contains(head, "Copyright 2026 The autox Authors") || !strings.Contains(head, "SPDX-License-Identifier: Apache-2.0") {
			t.Errorf("%s: no license header in its first lines; start it with the two lines of the others (Copyright, SPDX-License-Identifier: Apache-2.0)", f)
		}
	}
	if n < 200 {
		t.Errorf("checked %d files; want every .go, .sh, .proto, Makefile and script", n)
	}
}
