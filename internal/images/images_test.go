package images

import (
	"archive/tar"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func TestBuildIsReproducibleAndNonRoot(t *testing.T) {
	spec := Binary("http", []byte("\x7fELF fake binary"), []byte("-----BEGIN CERTIFICATE-----\n"))
	a, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds of one binary differ: %s vs %s", da, db)
	}
	cf, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cf.Config.User, strings.Join(cf.Config.Entrypoint, " "), cf.OS + "/" + cf.Architecture}
	if diff := cmp.Diff([]string{"65532:65532", "/ko-app/http", "linux/amd64"}, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "ko-app", "ko-app/http"}, entries(t, a)); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
}

// entries lists the image's files, as a container would see them.
func entries(t *testing.T, img v1.Image) []string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func TestTarballAndPushToLoopbackRegistry(t *testing.T) {
	img, err := Build(Binary("ready", []byte("binary"), nil))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ready.tar")
	size, err := WriteTarball(file, "autox.dev/ready:dev", img)
	if err != nil || size == 0 {
		t.Fatalf("WriteTarball = %d, %v", size, err)
	}
	tag, _ := name.NewTag("autox.dev/ready:dev")
	loaded, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got, _ := loaded.Digest(); got != want {
		t.Errorf("tarball holds %s, want %s", got, want)
	}

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	if err := Push(context.Background(), host+"/autox/ready:dev", img, true); err != nil {
		t.Fatal(err)
	}
	ref, _ := name.NewTag(host+"/autox/ready:dev", name.Insecure)
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := pulled.Digest(); got != want {
		t.Errorf("registry holds %s, want %s", got, want)
	}
}
