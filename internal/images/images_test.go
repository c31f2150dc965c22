// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var fakeCA = []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")

// wantPlatforms is what issue 20 asks every image of ours to be built for.
func wantPlatforms() []string { return []string{"linux/amd64", "linux/arm64"} }

// TestBaseIsReproducibleAndNonRoot: the base is an OCI index of one image
// per platform, each with the same files (CA certificates, nothing else),
// run as 65532, dated the epoch, and two builds give one digest.
func TestBaseIsReproducibleAndNonRoot(t *testing.T) {
	a, err := Index(Base(fakeCA), Platforms())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Index(Base(fakeCA), Platforms())
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds of the base index differ: %s vs %s", da, db)
	}
	checkBase(t, a)
}

// checkBase checks the base index (built here, or pulled from a registry).
func checkBase(t *testing.T, idx v1.ImageIndex) {
	t.Helper()
	for _, img := range platformImages(t, idx, wantPlatforms()) {
		t.Run(img.platform, func(t *testing.T) {
			mt, err := img.MediaType()
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			got := []string{string(mt), cf.Config.User, cf.OS + "/" + cf.Architecture, cf.Created.UTC().Format(time.RFC3339)}
			if diff := cmp.Diff([]string{string(types.OCIManifestSchema1), "65532:65532", img.platform, "1970-01-01T00:00:00Z"}, got); diff != "" {
				t.Errorf("manifest type, user, platform, date (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt"}, entries(t, img)); diff != "" {
				t.Errorf("the base holds more or less than CA certificates (-want +got):\n%s", diff)
			}
		})
	}
}

// platformImage is one image of an index, with the platform its index
// entry names.
type platformImage struct {
	v1.Image
	platform string
}

// platformImages checks that idx is an OCI image index whose entries name
// exactly want (in that order), and returns their images.
func platformImages(t *testing.T, idx v1.ImageIndex, want []string) []platformImage {
	t.Helper()
	mt, err := idx.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIImageIndex {
		t.Fatalf("media type %s, want an OCI image index (%s)", mt, types.OCIImageIndex)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var out []platformImage
	for _, d := range im.Manifests {
		if d.Platform == nil {
			t.Errorf("index entry %s names no platform", d.Digest)
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatalf("image %s of the index: %v", d.Digest, err)
		}
		got = append(got, d.Platform.String())
		out = append(out, platformImage{img, d.Platform.String()})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the index's platforms (-want +got):\n%s", diff)
	}
	return out
}

// TestBuildIsOnePlatform: Build makes one image for the platform asked
// for (the busybox image: linux/amd64 only).
func TestBuildIsOnePlatform(t *testing.T) {
	img, err := Build(Spec{Files: []File{{Path: "/bin/sh", Mode: 0o755, Data: []byte("x")}}}, BusyboxPlatform())
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.OS + "/" + cf.Architecture; got != "linux/amd64" {
		t.Errorf("busybox's platform is %s, want linux/amd64", got)
	}
}

// entries lists the image's files, as a container would see them.
func entries(t *testing.T, img v1.Image) []string {
	t.Helper()
	names, _ := flatten(t, img, "")
	return names
}

// flatten lists the image's files, as a container would see them, and
// returns the content of file keep (an absolute path), in one pass: the
// programs are tens of megabytes, and -race makes gunzip slow.
func flatten(t *testing.T, img v1.Image, keep string) (names []string, kept []byte) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if keep != "" && path.Clean("/"+h.Name) == keep {
			if kept, err = io.ReadAll(tr); err != nil {
				t.Fatalf("reading %s: %v", keep, err)
			}
			found = true
		}
	}
	if keep != "" && !found {
		t.Errorf("the image has no file %s", keep)
	}
	return names, kept
}

// describeELF says what a program is, as far as running it goes: its
// class, machine and linking ("ELFCLASS64 EM_AARCH64 static").
func describeELF(b []byte) string {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return "not ELF: " + err.Error()
	}
	linking := "static"
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			linking = "dynamic (" + p.Type.String() + ")"
		}
	}
	return fmt.Sprintf("%s %s %s", f.Class, f.Machine, linking)
}

// koBinary is the ko that `make unit` installs (test/cluster/ko.sh).
func koBinary(t *testing.T) string {
	t.Helper()
	ko := os.Getenv("AUTOX_KO")
	if ko == "" {
		t.Fatal("AUTOX_KO is not set: this test builds images with ko; run make unit (it installs ko), or: AUTOX_KO=$(./test/cluster/ko.sh) go test ./internal/images/")
	}
	if _, err := os.Stat(ko); err != nil {
		t.Fatalf("AUTOX_KO=%s: %v; run ./test/cluster/ko.sh, which installs ko and prints its path", ko, err)
	}
	return ko
}

// repoRoot is the module's root folder.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// koEnv is the environment ko runs in: ours, without settings of the
// caller's that would change what it builds (KO_*, and GOOS/GOARCH/GOARM,
// which ko refuses beside .ko.yaml's defaultPlatforms).
func koEnv(set ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "KO_") || k == "GOOS" || k == "GOARCH" || k == "GOARM" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, set...)
}

// TestKoBuildsMultiArchStepImages: ko, on our base index, with our
// .ko.yaml and no other platform setting (as `make images` and `make
// release` run it), builds each step program into an OCI index of exactly
// linux/amd64 and linux/arm64. Each platform's image runs /ko-app/<name> as
// 65532 and holds only it and the CA certificates, and that file is a
// static ELF program for the platform's machine. The base index, pulled
// back from the registry, has both platforms too; a second build gives the
// same digest; the registry serves each index by its digest.
func TestKoBuildsMultiArchStepImages(t *testing.T) {
	ko := koBinary(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	base, err := Index(Base(fakeCA), Platforms())
	if err != nil {
		t.Fatal(err)
	}
	baseRef, err := Push(t.Context(), host+"/autox/base", "v1", base, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("base", func(t *testing.T) {
		checkBase(t, pullIndex(t, baseRef))
	})

	root := repoRoot()
	// build returns the reference ko printed for each program, by name
	// (ko prints them in the order the builds end).
	build := func(ctx context.Context, steps ...string) map[string]string {
		t.Helper()
		args := []string{"build", "--insecure-registry", "--base-import-paths", "--sbom=none"}
		for _, s := range steps {
			args = append(args, "./cmd/"+s)
		}
		cmd := exec.CommandContext(ctx, ko, args...)
		cmd.Dir = root
		cmd.Env = koEnv("KO_DOCKER_REPO="+host+"/autox", "KO_DEFAULTBASEIMAGE="+baseRef,
			"KO_CONFIG_PATH="+filepath.Join(root, "images", ".ko.yaml"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ko %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		t.Logf("ko %s: %s", strings.Join(args, " "), time.Since(start).Round(time.Second))
		refs := map[string]string{}
		for _, ref := range strings.Fields(string(out)) {
			repo, _, _ := strings.Cut(ref, "@")
			refs[path.Base(repo)] = ref
		}
		var got []string
		for n := range refs {
			got = append(got, n)
		}
		sort.Strings(got)
		want := append([]string(nil), steps...)
		sort.Strings(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ko printed references %q; the images named (-want +got):\n%s", out, diff)
		}
		return refs
	}
	steps := []string{"ready", "http", "grpc", "assess", "notify"}
	refs := build(t.Context(), steps...)
	machine := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			ref := refs[step]
			if !strings.HasPrefix(ref, host+"/autox/"+step+"@sha256:") {
				t.Fatalf("ko build printed %q, want %s/autox/%s@sha256:...", ref, host, step)
			}
			for _, img := range platformImages(t, pullIndex(t, ref), wantPlatforms()) {
				t.Run(img.platform, func(t *testing.T) {
					t.Parallel() // gunzip of tens of megabytes, slow under -race: use every core
					cf, err := img.ConfigFile()
					if err != nil {
						t.Fatal(err)
					}
					app := "/ko-app/" + step
					got := []string{cf.Config.User, strings.Join(cf.Config.Entrypoint, " "), cf.OS + "/" + cf.Architecture}
					if diff := cmp.Diff([]string{"65532:65532", app, img.platform}, got); diff != "" {
						t.Errorf("config (-want +got):\n%s", diff)
					}
					// As ko writes them: its own layer's paths are absolute.
					want := []string{app, "/var", "/var/run", "/var/run/ko", "etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "ko-app"}
					files, program := flatten(t, img, app)
					sort.Strings(files)
					if diff := cmp.Diff(want, files); diff != "" {
						t.Errorf("image files (-want +got):\n%s", diff)
					}
					wantELF := fmt.Sprintf("%s %s static", elf.ELFCLASS64, machine[img.platform])
					if diff := cmp.Diff(wantELF, describeELF(program)); diff != "" {
						t.Errorf("%s (-want +got):\n%s", app, diff)
					}
				})
			}
		})
	}
	t.Run("reproducible", func(t *testing.T) {
		if again := build(t.Context(), "ready")["ready"]; again != refs["ready"] {
			t.Errorf("two ko builds of one source differ: %s vs %s", refs["ready"], again)
		}
	})
}

// pullIndex fetches the index ref (pinned by digest) from the registry and
// checks that its digest is the one asked for.
func pullIndex(t *testing.T, ref string) v1.ImageIndex {
	t.Helper()
	d, err := name.NewDigest(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(d)
	if err != nil {
		t.Fatalf("pulling %s: %v", d, err)
	}
	if !desc.MediaType.IsIndex() {
		t.Fatalf("%s has media type %s, want an OCI image index (%s)", d, desc.MediaType, types.OCIImageIndex)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Digest(); got.String() != d.DigestStr() {
		t.Errorf("registry holds %s for %s", got, d)
	}
	return idx
}
