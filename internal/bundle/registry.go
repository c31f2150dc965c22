// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package bundle

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is where bundles are pushed: the bundle of a resource named x
// goes to <Repo>/bundles/x.
type Registry struct {
	// Repo is the registry and path, host[:port]/path, e.g.
	// 127.0.0.1:10290/autox (ko's KO_DOCKER_REPO).
	Repo string
	// PullRepo is the same registry and path as the cluster's bundles
	// resolver reaches it; the references returned (and written into
	// other bundles) name it. Empty means Repo. A loopback registry is
	// one: a pod's 127.0.0.1 is its own.
	PullRepo string
	// Insecure pushes over plain HTTP. A registry on loopback is spoken
	// to over plain HTTP anyway.
	Insecure bool
	// Keychain gives the credentials to push with; nil pushes
	// anonymously.
	Keychain authn.Keychain
	// Options are added to every push (tests set a transport or retries).
	Options []remote.Option
}

// Check says whether Repo and PullRepo can name a bundle; the message
// names the flag-free field and the fix.
func (r Registry) Check() error {
	if r.Repo == "" {
		return fmt.Errorf("no registry to push to: set the registry and path, e.g. 127.0.0.1:10290/autox or ghcr.io/you/autox")
	}
	if _, err := r.repository(r.Repo, "x"); err != nil {
		return err
	}
	if r.PullRepo != "" {
		if _, err := r.repository(r.PullRepo, "x"); err != nil {
			return err
		}
	}
	return nil
}

func (r Registry) repository(repo, resource string) (name.Repository, error) {
	var opts []name.Option
	if r.Insecure {
		opts = append(opts, name.Insecure)
	}
	s := repo + "/bundles/" + resource
	n, err := name.NewRepository(s, opts...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%q is not a valid repository (%v); write host[:port]/path in lower case, e.g. 127.0.0.1:10290/autox", repo, err)
	}
	return n, nil
}

// Push sends img to <Repo>/bundles/<resource>:<tag> and returns its
// reference pinned by digest, in PullRepo if set:
// <PullRepo>/bundles/<resource>@sha256:...
func (r Registry) Push(ctx context.Context, resource, tag string, img v1.Image) (string, error) {
	repo, err := r.repository(r.Repo, resource)
	if err != nil {
		return "", err
	}
	tagOpts := []name.Option{name.StrictValidation}
	if r.Insecure {
		tagOpts = append(tagOpts, name.Insecure)
	}
	ref, err := name.NewTag(repo.Name()+":"+tag, tagOpts...)
	if err != nil {
		return "", fmt.Errorf("tag %q of %s: %v; %s", tag, repo.Name(), err, tagRule)
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if r.Keychain != nil {
		opts = append(opts, remote.WithAuthFromKeychain(r.Keychain))
	}
	opts = append(opts, r.Options...)
	if err := remote.Write(ref, img, opts...); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	pull := repo
	if r.PullRepo != "" {
		if pull, err = r.repository(r.PullRepo, resource); err != nil {
			return "", err
		}
	}
	return pull.Name() + "@" + d.String(), nil
}
