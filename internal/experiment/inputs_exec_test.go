// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBadInputsOfTheCommand runs the built autox command on the inputs of
// issue 19 that once ran out of memory, printed the whole usage or exited
// 3, under a memory limit and a timeout with a kill: each must be bad
// input (exit 2) in one line that names the field, the value and the fix.
func TestBadInputsOfTheCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/autox")
	}
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("needs coreutils timeout")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "autox")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/autox")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/autox: %v\n%s", err, out)
	}
	exp := filepath.Join(dir, "laughs.yaml")
	if err := os.WriteFile(exp, []byte(laughs), 0o644); err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(values, []byte("groups:\n  httpbin:\n    specs:\n      iter8:\n        values:\n          "+strings.ReplaceAll(laughs, "\n", "\n          ")), 0o644); err != nil {
		t.Fatal(err)
	}
	noGroups := "autox: groups: no groups given; name the object and its experiment, e.g. --set groups.httpbin.trigger.name=httpbin (run autox generate -h for a whole example)"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{{
		name: "generate -f /dev/zero",
		args: []string{"generate", "-f", "/dev/zero"},
		want: []string{"autox: -f /dev/zero: cannot read the values file: it is a device, not a regular file; pass a regular file of at most 4 MiB", noGroups},
	}, {
		name: "generate -f a folder",
		args: []string{"generate", "-f", dir},
		want: []string{"autox: -f " + dir + ": cannot read the values file: it is a folder, not a regular file; pass a regular file of at most 4 MiB", noGroups},
	}, {
		name: "generate -f values with a billion laughs",
		args: []string{"generate", "-f", values},
		want: []string{"autox: -f " + values + ": groups.httpbin.specs.iter8.values.grpc.data.g[0]: the alias *f makes the YAML more than 1000000 values once aliases are expanded; write the values out, or use fewer aliases", noGroups},
	}, {
		name: "run -f /dev/zero",
		args: []string{"run", "-f", "/dev/zero"},
		want: []string{`autox: cannot read experiment file "/dev/zero": it is a device, not a regular file; pass a regular file of at most 4 MiB with -f`},
	}, {
		name: "run a billion laughs in grpc.data",
		args: []string{"run", "-f", exp},
		want: []string{"autox: " + exp + ": grpc.data.g[0]: the alias *f makes the YAML more than 1000000 values once aliases are expanded; write the values out, or use fewer aliases"},
	}, {
		name: "KUBECONFIG=/dev/zero",
		env:  []string{"KUBECONFIG=" + filepath.Join(dir, "absent") + ":/dev/zero"},
		args: []string{"assert", "-g", "autox-httpbin-iter8", "-c", "completed"},
		want: []string{`autox: KUBECONFIG: "/dev/zero" cannot be a kubeconfig: it is a device, not a regular file; name a kubeconfig file of at most 16 MiB`},
	}, {
		name: "-kubeconfig /dev/zero",
		args: []string{"report", "-g", "autox-httpbin-iter8", "-kubeconfig", "/dev/zero"},
		want: []string{`autox: -kubeconfig: "/dev/zero" cannot be a kubeconfig: it is a device, not a regular file; name a kubeconfig file of at most 16 MiB`},
	}, {
		name: "-t beyond its range",
		args: []string{"assert", "-g", "autox-httpbin-iter8", "-c", "completed", "-t", "999999999h"},
		want: []string{`autox: -t: "999999999h" is not a duration within 0s..24h; write one such as 5m`},
	}, {
		name: "AUTOX_TIMEOUT beyond its range",
		env:  []string{"AUTOX_TIMEOUT=25h"},
		args: []string{"assert", "-g", "autox-httpbin-iter8", "-c", "completed"},
		want: []string{`autox: AUTOX_TIMEOUT (-t): "25h" is not a duration within 0s..24h; write one such as 5m`},
	}, {
		name: "--compare beyond its range",
		args: []string{"report", "-g", "autox-httpbin-iter8", "--compare", "99999999999999999999"},
		want: []string{`autox: -compare: "99999999999999999999" is not a whole number within 2..100; write one such as 2`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			// 4 GiB of address space, 30 s, then a kill 5 s later.
			cmd := exec.Command("bash", append([]string{"-c", `ulimit -v 4194304 && exec timeout -k 5 30 "$0" "$@"`, bin}, tc.args...)...)
			cmd.Env = append(os.Environ(), "KUBECONFIG=", "HOME="+dir, "AUTOX_TIMEOUT=", "AUTOX_COMPARE=", "KUBERNETES_SERVICE_HOST=")
			cmd.Env = append(cmd.Env, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != 2 || stdout.Len() != 0 {
				t.Errorf("exit %d with stdout %q, want 2 and nothing (124 or 137 is the timeout)", code, stdout.String())
			}
			got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s", diff)
			}
		})
	}
}
