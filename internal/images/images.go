// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package images makes the two images that ko does not build: ko's base
// image (CA certificates and the non-root user, nothing else) and the shell
// image Tekton runs script steps with (Debian's busybox-static). Both are
// made from scratch with google/go-containerregistry, reproducibly: files
// are sorted and every timestamp is the Unix epoch, so the same input gives
// the same digest. Every other image (our programs, Tekton's, CoreDNS) is
// built by ko on top of Base; see images/.ko.yaml.
//
// The base is an OCI image index with one image per platform of
// Platforms (linux/amd64, linux/arm64): the files hold no program, so the
// images differ only in their config's os and architecture. ko builds the
// program once for each platform of the base that it is asked for
// (.ko.yaml's defaultPlatforms, or --platform) and pushes an index of the
// results, or a plain image when only one platform is asked for. The
// busybox image is one linux/amd64 image: it only serves the local test
// cluster.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NonRoot is the user our images run as (distroless' nonroot).
const NonRoot = "65532:65532"

// CACertsPath is where images keep CA certificates (Debian's path, which
// Go's crypto/x509 reads).
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// File is one entry of the image's layer.
type File struct {
	// Path inside the image, absolute.
	Path string
	Mode int64
	Data []byte
	// Link makes the entry a symlink to Link (Data is ignored).
	Link string
}

// Spec describes an image.
type Spec struct {
	Files      []File
	Entrypoint []string
	User       string
	Env        []string
}

// Base is the spec of ko's base image: CA certificates (for HTTPS
// endpoints) and the non-root user, nothing else. ko adds the program at
// /ko-app/<name> and makes it the entrypoint.
func Base(caCerts []byte) Spec {
	return Spec{
		Files: []File{{Path: CACertsPath, Mode: 0o644, Data: caCerts}},
		User:  NonRoot,
		Env:   []string{"SSL_CERT_FILE=" + CACertsPath},
	}
}

// Platforms are the platforms of the base image, in its index's order, and
// so the most that ko can build on it. images/.ko.yaml's defaultPlatforms
// and the catalog's tekton.dev/platforms annotations name the same ones
// (tests in this package check both).
func Platforms() []v1.Platform {
	return []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
}

// Build makes the image of spec for platform p, with OCI media types
// (manifest, config and layer).
func Build(spec Spec, p v1.Platform) (v1.Image, error) {
	layerTar, err := layer(spec.Files)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, l)
	if err != nil {
		return nil, fmt.Errorf("adding layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint = spec.Entrypoint
	cf.Config.User = spec.User
	cf.Config.Env = spec.Env
	return mutate.ConfigFile(img, cf)
}

// Index makes an OCI image index of spec's image for each of platforms, in
// that order, each entry labelled with its platform (which is how ko and
// container runtimes pick one). Only spec's config differs between them, so
// spec must hold no program: a binary is built for one machine.
func Index(spec Spec, platforms []v1.Platform) (v1.ImageIndex, error) {
	if len(platforms) == 0 {
		return nil, fmt.Errorf("an image index needs at least one platform")
	}
	adds := make([]mutate.IndexAddendum, 0, len(platforms))
	for _, p := range platforms {
		img, err := Build(spec, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &p},
		})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...), nil
}

// layer writes files (and their parent folders) as a tar, sorted, with
// fixed timestamps and owners.
func layer(files []File) ([]byte, error) {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "/" && d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	type entry struct {
		hdr  *tar.Header
		data []byte
	}
	var entries []entry
	epoch := time.Unix(0, 0)
	for d := range dirs {
		entries = append(entries, entry{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: epoch}})
	}
	for _, f := range files {
		if !path.IsAbs(f.Path) {
			return nil, fmt.Errorf("image path %q is not absolute", f.Path)
		}
		h := &tar.Header{Name: f.Path[1:], Mode: f.Mode, ModTime: epoch}
		if f.Link != "" {
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
			entries = append(entries, entry{hdr: h})
			continue
		}
		h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		entries = append(entries, entry{hdr: h, data: f.Data})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].hdr.Name < entries[j].hdr.Name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Artifact is what Push sends: an image (v1.Image) or an image index
// (v1.ImageIndex).
type Artifact interface {
	MediaType() (types.MediaType, error)
	RawManifest() ([]byte, error)
	Digest() (v1.Hash, error)
}

var (
	_ Artifact = (v1.Image)(nil)
	_ Artifact = (v1.ImageIndex)(nil)
)

// Push sends a (an image with its layers, or an index with its images) to a
// registry as repo (registry/repository, tagged tag) and returns its
// reference pinned by digest (repo@sha256:...). insecure allows plain
// HTTP, for registries on loopback.
func Push(ctx context.Context, repo, tag string, a Artifact, insecure bool) (string, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(repo+":"+tag, opts...)
	if err != nil {
		return "", fmt.Errorf("image name %q: %w", repo+":"+tag, err)
	}
	if err := remote.Push(ref, a, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := a.Digest()
	if err != nil {
		return "", err
	}
	return repo + "@" + d.String(), nil
}

// BusyboxPlatform is the one platform of the busybox image (linux/amd64):
// the machine of the local test cluster, whose Debian package it is copied
// from.
func BusyboxPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: "amd64"} }

// Busybox is a shell image (for Tekton's script steps) from a static
// busybox binary: /bin/busybox and a link per applet, except busybox
// itself (a link over the binary would loop). It runs as root, as
// Tekton's shell image must (its controller.yaml: "The shell image must
// allow root in order to create directories and copy files to PVCs").
// It is single-arch, BusyboxPlatform (build it with Build, not Index), and
// only for the local test cluster: binary must be an x86-64 ELF file.
func Busybox(binary string) (Spec, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("reading %s: %v; install Debian's busybox-static", binary, err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return Spec{}, fmt.Errorf("%s is not an ELF file: %v; install Debian's busybox-static", binary, err)
	}
	if f.Machine != elf.EM_X86_64 {
		return Spec{}, fmt.Errorf("%s is built for %s, but the busybox image is %s only: use an x86-64 busybox-static", binary, f.Machine, BusyboxPlatform())
	}
	out, err := exec.Command(binary, "--list").Output()
	if err != nil {
		return Spec{}, fmt.Errorf("%s --list: %w", binary, err)
	}
	s := Spec{
		Files:      []File{{Path: "/bin/busybox", Mode: 0o755, Data: b}},
		Entrypoint: []string{"/bin/sh"},
		User:       "0:0",
		Env:        []string{"PATH=/bin"},
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		s.Files = append(s.Files, File{Path: "/bin/" + applet, Mode: 0o777, Link: "busybox"})
	}
	return s, nil
}
