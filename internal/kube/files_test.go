// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// TestConnectRefusesWhatIsNotAKubeconfig: a kubeconfig that is a device
// (KUBECONFIG=/dev/zero once ran out of memory in client-go), a folder or
// larger than 16 MiB is bad input naming where it came from, before
// client-go reads it. /dev/null stands for every device.
func TestConnectRefusesWhatIsNotAKubeconfig(t *testing.T) {
	notInAPod(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(17 << 20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".kube", "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kc   Kubeconfig
		want string
	}{
		{"-kubeconfig a device", Kubeconfig{File: "/dev/null"},
			`-kubeconfig: "/dev/null" cannot be a kubeconfig: it is a device, not a regular file; name a kubeconfig file of at most 16 MiB`},
		{"KUBECONFIG naming a device after a missing file", Kubeconfig{Files: filepath.Join(dir, "absent") + string(os.PathListSeparator) + "/dev/null"},
			`KUBECONFIG: "/dev/null" cannot be a kubeconfig: it is a device, not a regular file; name a kubeconfig file of at most 16 MiB`},
		{"KUBECONFIG naming a file of 17 MiB", Kubeconfig{Files: big},
			`KUBECONFIG: "` + big + `" cannot be a kubeconfig: it is 17825792 bytes, more than the limit of 16 MiB; name a kubeconfig file of at most 16 MiB`},
		{"~/.kube/config a folder", Kubeconfig{Home: home},
			`~/.kube/config: "` + filepath.Join(home, ".kube", "config") + `" cannot be a kubeconfig: it is a folder, not a regular file; name a kubeconfig file of at most 16 MiB`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(tc.kc)
			if !badinput.Is(err) {
				t.Fatalf("Connect = %v, want bad input", err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
