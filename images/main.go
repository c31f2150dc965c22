// Command images builds an OCI image from scratch for every autox program
// (cmd/*) and sample app (test/apps/*), without Docker, writes each as a
// tarball that `ctr images import` reads, prints its size, and pushes it
// when a registry is named.
//
//	go run ./images -out bin/images [-tag dev] [-registry host:port [-insecure]]
//	go run ./images -out DIR -tag v1.9.0 -binary tekton-nop=/path/nop ... -busybox
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/autox-tekton/autox/internal/images"
)

type binaries map[string]string

func (b binaries) String() string { return fmt.Sprint(map[string]string(b)) }
func (b binaries) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("%q: write name=path/to/binary", v)
	}
	b[name] = file
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	out := fs.String("out", "bin/images", "folder for the image tarballs")
	tag := fs.String("tag", "dev", "image tag")
	prefix := fs.String("prefix", "autox.dev", "repository prefix of the local image names")
	registry := fs.String("registry", "", "also push every image to this registry (host:port[/path])")
	insecure := fs.Bool("insecure", false, "push over plain HTTP (a registry on loopback)")
	bins := binaries{}
	fs.Var(bins, "binary", "name=path: an image from a prebuilt static binary instead of our programs (repeatable)")
	busybox := fs.Bool("busybox", false, "also build a shell image from Debian's busybox-static (/bin/busybox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	ca, err := os.ReadFile(images.CACertsPath)
	if err != nil {
		return fmt.Errorf("reading CA certificates: %v; install Debian's ca-certificates", err)
	}

	specs := map[string]images.Spec{}
	if len(bins) == 0 {
		progs, err := ourPrograms()
		if err != nil {
			return err
		}
		build, err := os.MkdirTemp("", "autox-images-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(build)
		for name, pkg := range progs {
			bins[name] = filepath.Join(build, name)
			cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bins[name], pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
			}
		}
	}
	for name, file := range bins {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		// The program keeps its own file name: Tekton runs /ko-app/entrypoint
		// from the image it names tekton-entrypoint.
		specs[name] = images.Binary(filepath.Base(file), b, ca)
	}
	if *busybox {
		s, err := images.Busybox("/bin/busybox")
		if err != nil {
			return err
		}
		specs["busybox"] = s
	}

	for _, name := range sortedNames(specs) {
		img, err := images.Build(specs[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		ref := *prefix + "/" + name + ":" + *tag
		size, err := images.WriteTarball(filepath.Join(*out, name+".tar"), ref, img)
		if err != nil {
			return err
		}
		digest, _ := img.Digest()
		fmt.Printf("%-28s %6.1f MiB  %s\n", ref, float64(size)/(1<<20), digest)
		if *registry != "" {
			pushed := *registry + "/" + name + ":" + *tag
			if err := images.Push(ctx, pushed, img, *insecure); err != nil {
				return err
			}
			fmt.Printf("  pushed %s\n", pushed)
		}
	}
	return nil
}

// ourPrograms maps each image name to the package it is built from.
func ourPrograms() (map[string]string, error) {
	out := map[string]string{}
	for _, glob := range []string{"cmd/*/main.go", "test/apps/*/main.go"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			dir := filepath.Dir(f)
			out[filepath.Base(dir)] = "./" + dir
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no programs under cmd/ and test/apps/; run from the repository's root")
	}
	return out, nil
}

func sortedNames(m map[string]images.Spec) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
