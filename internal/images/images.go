// Package images makes the two images that ko does not build: ko's base
// image (CA certificates and the non-root user, nothing else) and the shell
// image Tekton runs script steps with (Debian's busybox-static). Both are
// made from scratch with google/go-containerregistry, reproducibly: files
// are sorted and every timestamp is the Unix epoch, so the same input gives
// the same digest. Every other image (our programs, Tekton's, CoreDNS) is
// built by ko on top of Base; see images/.ko.yaml.
package images

import (
	"archive/tar"
	"bytes"
	"context"
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

// Build makes the image of spec for linux/amd64.
func Build(spec Spec) (v1.Image, error) {
	layerTar, err := layer(spec.Files)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("making layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, fmt.Errorf("adding layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint = spec.Entrypoint
	cf.Config.User = spec.User
	cf.Config.Env = spec.Env
	return mutate.ConfigFile(img, cf)
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

// Push sends img to a registry as repo (registry/repository, tagged tag)
// and returns its reference pinned by digest (repo@sha256:...). insecure
// allows plain HTTP, for registries on loopback.
func Push(ctx context.Context, repo, tag string, img v1.Image, insecure bool) (string, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(repo+":"+tag, opts...)
	if err != nil {
		return "", fmt.Errorf("image name %q: %w", repo+":"+tag, err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return repo + "@" + d.String(), nil
}

// Busybox is a shell image (for Tekton's script steps) from a static
// busybox binary: /bin/busybox and a link per applet, except busybox
// itself (a link over the binary would loop). It runs as root, as
// Tekton's shell image must (its controller.yaml: "The shell image must
// allow root in order to create directories and copy files to PVCs").
func Busybox(binary string) (Spec, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return Spec{}, fmt.Errorf("reading %s: %v; install Debian's busybox-static", binary, err)
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
