// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
)

// TestRun: how a program ends, by what its work returns and whether it
// was stopped.
func TestRun(t *testing.T) {
	sigterm := errors.New("terminated signal received")
	stopped := func(err error) func(context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
	}
	type got struct {
		Code   int
		Stderr string
	}
	for _, tc := range []struct {
		name string
		stop bool
		work func(context.Context) error
		want got
	}{
		{"done", false, func(context.Context) error { return nil }, got{0, ""}},
		{"bad input", false, func(context.Context) error { return badinput.Field("-o", `"pdf" is not an output format`) }, got{2, "step: -o: \"pdf\" is not an output format\n"}},
		{"stopped, and says what it kept", true, stopped(errors.New("stopped; wrote what was measured")), got{3, "step: stopped; wrote what was measured (terminated signal received)\n"}},
		{"stopped, but the work does not end", true, func(context.Context) error { select {} }, got{3, "step: stopped (terminated signal received) but did not end within 50ms; ended it without waiting further\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if tc.stop {
				cancel(sigterm)
			}
			var stderr bytes.Buffer
			code := run(ctx, 50*time.Millisecond, "step", &stderr, tc.work)
			if diff := cmp.Diff(tc.want, got{code, stderr.String()}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
