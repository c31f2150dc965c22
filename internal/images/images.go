// Package images builds OCI images from scratch without Docker, with
// google/go-containerregistry: one layer holding a static binary (at
// /ko-app/<name>, where Tekton's own images keep theirs), CA certificates
// for HTTPS endpoints, and a non-root user. Builds are reproducible: files
// are sorted and every timestamp is the Unix epoch, so the same binary
// gives the same digest.
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

// Binary is the spec of an image whose whole content is one program,
// installed at /ko-app/<name>, with CA certificates (caCerts may be nil)
// and the non-root user.
func Binary(name string, binary, caCerts []byte) Spec {
	s := Spec{
		Files:      []File{{Path: "/ko-app/" + name, Mode: 0o755, Data: binary}},
		Entrypoint: []string{"/ko-app/" + name},
		User:       NonRoot,
		Env:        []string{"PATH=/ko-app", "SSL_CERT_FILE=" + CACertsPath},
	}
	if caCerts != nil {
		s.Files = append(s.Files, File{Path: CACertsPath, Mode: 0o644, Data: caCerts})
	}
	return s
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

// WriteTarball writes img tagged ref as a tarball that
// `ctr images import` and `docker load` read. It returns the file's size.
func WriteTarball(file, ref string, img v1.Image) (int64, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return 0, fmt.Errorf("image name %q: %w", ref, err)
	}
	tmp := file + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("writing %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return 0, err
	}
	st, err := os.Stat(file)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// Push sends img to a registry as ref (registry/repository:tag). insecure
// allows plain HTTP, for registries on loopback.
func Push(ctx context.Context, ref string, img v1.Image, insecure bool) error {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	tag, err := name.NewTag(ref, opts...)
	if err != nil {
		return fmt.Errorf("image name %q: %w", ref, err)
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// Busybox is a shell image (for Tekton's script steps) from a static
// busybox binary: /bin/busybox and a link per applet, except busybox
// itself (a link over the binary would loop). It runs as root, as
// Tekton's shell image must.
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
