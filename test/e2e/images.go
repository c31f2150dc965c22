// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bufio"
	"os"
	"strings"
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

// harnessEnv reads what the harness wrote for the tests
// (test/cluster/images.sh): the registry's address, tkn's path, and one
// AUTOX_IMAGE_<NAME>=ref@digest line per image. make e2e sets
// AUTOX_IMAGES_ENV to its path.
func harnessEnv(t *testing.T) map[string]string {
	t.Helper()
	file := os.Getenv("AUTOX_IMAGES_ENV")
	if file == "" {
		t.Fatal("AUTOX_IMAGES_ENV is not set; run make e2e, which brings the cluster up and sets it")
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("AUTOX_IMAGES_ENV: %v; run make cluster-up", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// image is the reference, pinned by digest, of the cluster's image name
// (ready, http, grpc, assess, httpbin, routeguide, busybox, ...).
func image(t *testing.T, name string) string {
	t.Helper()
	key := "AUTOX_IMAGE_" + strings.ToUpper(name)
	ref := harnessEnv(t)[key]
	if ref == "" {
		t.Fatalf("%s names no %s; run make cluster-down and make e2e to write it again", os.Getenv("AUTOX_IMAGES_ENV"), key)
	}
	return ref
}

// tkn is the path of the tkn CLI the harness built.
func tkn(t *testing.T) string {
	t.Helper()
	p := harnessEnv(t)["AUTOX_TKN"]
	if p == "" {
		t.Fatalf("%s names no AUTOX_TKN", os.Getenv("AUTOX_IMAGES_ENV"))
	}
	return p
}

// tektonVersion is the Tekton Pipelines release the cluster runs
// (AUTOX_TEKTON_VERSION: the newest by default, the oldest the catalog
// claims in make e2e-oldest).
func tektonVersion(t *testing.T) string {
	t.Helper()
	v := harnessEnv(t)["AUTOX_TEKTON_VERSION"]
	if _, err := utilversion.ParseSemantic(v); err != nil {
		t.Fatalf("%s names no AUTOX_TEKTON_VERSION=vX.Y.Z (%v); run make cluster-down and make e2e to write it again", os.Getenv("AUTOX_IMAGES_ENV"), err)
	}
	return v
}

// failedRunsCarryResults: since Tekton Pipelines v1.10 a failed task's
// results reach the PipelineRun's results (tektoncd/pipeline#9367).
func failedRunsCarryResults(t *testing.T) bool {
	return utilversion.MustParseSemantic(tektonVersion(t)).AtLeast(utilversion.MustParseSemantic("v1.10.0"))
}
