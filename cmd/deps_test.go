// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package cmd_test checks what each command links: a step image carries
// only the code of what it runs, so the ready image holds no load
// generator, the load images no Kubernetes client, and each load image
// only its own generator.
package cmd_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	hey      = "github.com/rakyll/hey"
	ghz      = "github.com/bojand/ghz"
	clientGo = "k8s.io/client-go"
	assess   = "github.com/autox-tekton/autox/internal/assess"
)

func TestEachCommandLinksOnlyWhatItRuns(t *testing.T) {
	for _, tc := range []struct {
		command string
		// forbidden import paths, each with everything under it
		forbidden []string
		// required ones, so that a broken go list cannot pass
		required []string
	}{
		{"./ready", []string{hey, ghz, assess}, []string{clientGo}},
		{"./http", []string{ghz, clientGo}, []string{hey}},
		{"./grpc", []string{hey, clientGo}, []string{ghz}},
		// assess keeps the result in a ConfigMap through client-go.
		{"./assess", []string{hey, ghz}, []string{clientGo, assess}},
		// The watcher reads Triggers and watched objects through client-go.
		{"./watcher", []string{hey, ghz, assess}, []string{clientGo}},
		// notify reads the result ConfigMap through client-go, words the
		// summary as assess does, and posts to a webhook; it sends no load.
		{"./notify", []string{hey, ghz}, []string{clientGo, assess}},
		{"./autox", nil, []string{hey, ghz, clientGo, assess}},
	} {
		t.Run(tc.command, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tc.command).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tc.command, err)
			}
			var linked []string
			for _, want := range append(tc.forbidden, tc.required...) {
				for _, pkg := range strings.Fields(string(out)) {
					if pkg == want || strings.HasPrefix(pkg, want+"/") {
						linked = append(linked, want)
						break
					}
				}
			}
			if diff := cmp.Diff(tc.required, linked); diff != "" {
				t.Errorf("what %s links of %v (-want +got):\n%s", tc.command, append(tc.forbidden, tc.required...), diff)
			}
		})
	}
}
