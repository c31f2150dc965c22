// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
)

// TestCertificateAndBodyFlags: -cert-lifetime and -max-body-bytes out of
// range are bad input (exit 2), refused before anything is read.
func TestCertificateAndBodyFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{{
		name: "a lifetime over a year",
		args: []string{"-cert-lifetime", "8761h"},
		want: `interceptor: -cert-lifetime: "8761h" is not a duration within 1m30s..8760h; write one such as 2160h (90 days)` + "\n",
	}, {
		name: "a lifetime shorter than the EventListener's minute allows",
		args: []string{"-cert-lifetime", "1m"},
		want: `interceptor: -cert-lifetime: "1m" is not a duration within 1m30s..8760h; write one such as 2160h (90 days)` + "\n",
	}, {
		name: "a body limit over 16 MiB, from the environment",
		env:  map[string]string{"AUTOX_MAX_BODY_BYTES": "67108864"},
		want: `interceptor: AUTOX_MAX_BODY_BYTES (-max-body-bytes): "67108864" is not a whole number within 1..16777216; write one such as 1048576` + "\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stderr, slog.New(slog.NewTextHandler(&stderr, nil)), func(k string) string { return tc.env[k] })
			code := cli.Exit("interceptor", err, &stderr)
			if diff := cmp.Diff(tc.want, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
		})
	}
}
