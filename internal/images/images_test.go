package images

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
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
)

var fakeCA = []byte("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")

func TestBaseIsReproducibleAndNonRoot(t *testing.T) {
	a, err := Build(Base(fakeCA))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(Base(fakeCA))
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds of the base image differ: %s vs %s", da, db)
	}
	cf, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cf.Config.User, cf.OS + "/" + cf.Architecture, cf.Created.UTC().Format(time.RFC3339)}
	if diff := cmp.Diff([]string{"65532:65532", "linux/amd64", "1970-01-01T00:00:00Z"}, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt"}, entries(t, a)); diff != "" {
		t.Errorf("the base holds more or less than CA certificates (-want +got):\n%s", diff)
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

// TestKoBuildsOurImages: ko, on our base image, with our .ko.yaml, builds
// a program of ours into an image that runs as 65532, holds the program
// and the CA certificates and nothing else, comes out with the same digest
// twice, and is pulled from the registry by that digest.
func TestKoBuildsOurImages(t *testing.T) {
	ko := koBinary(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	base, err := Build(Base(fakeCA))
	if err != nil {
		t.Fatal(err)
	}
	baseRef, err := Push(context.Background(), host+"/autox/base", "v1", base, true)
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	build := func() string {
		t.Helper()
		cmd := exec.Command(ko, "build", "--insecure-registry", "--base-import-paths", "--sbom=none", "./test/apps/httpbin")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "KO_DOCKER_REPO="+host+"/autox", "KO_DEFAULTBASEIMAGE="+baseRef,
			"KO_CONFIG_PATH="+filepath.Join(root, "images", ".ko.yaml"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ko build: %v\n%s", err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	first, second := build(), build()
	if first != second {
		t.Errorf("two ko builds of one source differ: %s vs %s", first, second)
	}
	if !strings.HasPrefix(first, host+"/autox/httpbin@sha256:") {
		t.Fatalf("ko build printed %q, want %s/autox/httpbin@sha256:...", first, host)
	}
	ref, err := name.NewDigest(first, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	if got, _ := img.Digest(); got.String() != ref.DigestStr() {
		t.Errorf("registry holds %s for %s", got, ref)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cf.Config.User, strings.Join(cf.Config.Entrypoint, " "), cf.OS + "/" + cf.Architecture}
	if diff := cmp.Diff([]string{"65532:65532", "/ko-app/httpbin", "linux/amd64"}, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	// As ko writes them: its own layer's paths are absolute.
	want := []string{"/ko-app/httpbin", "/var", "/var/run", "/var/run/ko", "etc", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "ko-app"}
	got = entries(t, img)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image files (-want +got):\n%s", diff)
	}
}
