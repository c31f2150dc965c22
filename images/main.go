// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command images makes the images that ko does not build and pushes them
// to a registry: ko's base image (CA certificates and uid/gid 65532,
// nothing else) and the busybox shell image for Tekton's script steps.
// It prints one NAME=ref@digest line per image (base, busybox), for the
// scripts to read. Every other image is built by ko on top of the base:
// see .ko.yaml beside this file, `make images` and `make release`.
//
// The base is an OCI image index for linux/amd64 and linux/arm64 (the same
// files; each image's config names its platform), so ko can build our
// programs for both and push an index of them. The busybox image is a
// single linux/amd64 image, from this machine's Debian busybox-static: it
// only serves the local test cluster's Tekton script steps.
//
//	go run ./images -repo 127.0.0.1:10290/autox [-insecure] [-busybox]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/autox-tekton/autox/internal/images"
)

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
	repo := fs.String("repo", "", "push to this registry and path (host:port/path), e.g. 127.0.0.1:10290/autox")
	tag := fs.String("tag", "v1", "tag of the pushed images (the printed references are pinned by digest)")
	insecure := fs.Bool("insecure", false, "push over plain HTTP (a registry on loopback)")
	busybox := fs.Bool("busybox", false, "also push a linux/amd64 shell image from Debian's busybox-static (/bin/busybox)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *repo == "" {
		return fmt.Errorf("-repo is required: the registry and path to push to, e.g. 127.0.0.1:10290/autox")
	}
	ca, err := os.ReadFile(images.CACertsPath)
	if err != nil {
		return fmt.Errorf("reading CA certificates: %v; install Debian's ca-certificates", err)
	}
	base, err := images.Index(images.Base(ca), images.Platforms())
	if err != nil {
		return fmt.Errorf("base: %w", err)
	}
	pushed := []struct {
		name string
		a    images.Artifact
	}{{"base", base}}
	if *busybox {
		s, err := images.Busybox("/bin/busybox")
		if err != nil {
			return err
		}
		img, err := images.Build(s, images.BusyboxPlatform())
		if err != nil {
			return fmt.Errorf("busybox: %w", err)
		}
		pushed = append(pushed, struct {
			name string
			a    images.Artifact
		}{"busybox", img})
	}
	for _, p := range pushed {
		ref, err := images.Push(ctx, *repo+"/"+p.name, *tag, p.a, *insecure)
		if err != nil {
			return err
		}
		fmt.Printf("%s=%s\n", p.name, ref)
	}
	return nil
}
