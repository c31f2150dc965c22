// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"

	"github.com/autox-tekton/autox/internal/logging"
)

// TestLogClientTo sends lines through klog as client-go does and checks
// which reach the step's log, and how.
func TestLogClientTo(t *testing.T) {
	stopped, stop := context.WithCancelCause(context.Background())
	stop(errors.New("terminated signal received"))
	const watchCut = `pkg/mod/k8s.io/client-go@v0.32.11/tools/cache/reflector.go:251: watch of *unstructured.Unstructured ended with: an error on the server ("unable to decode an event from the watch stream: terminated signal received") has prevented the request from succeeding`
	for _, tc := range []struct {
		name string
		ctx  context.Context
		log  func()
		want string
	}{{
		name: "a warning is a warning",
		ctx:  context.Background(),
		log:  func() { klog.Warningf("Config not found: %s", "/etc/kube/absent") },
		want: "::warning::kubernetes client: Config not found: /etc/kube/absent\n",
	}, {
		name: "an error is an error",
		ctx:  context.Background(),
		log: func() {
			utilruntime.HandleError(errors.New(`getting credentials: exec: executable aws-iam-authenticator not found`))
		},
		want: "::error::kubernetes client: Unhandled Error logger=UnhandledError err=getting credentials: exec: executable aws-iam-authenticator not found\n",
	}, {
		name: "a watch the API server refuses is kept",
		ctx:  context.Background(),
		log: func() {
			utilruntime.HandleError(fmt.Errorf("reflector.go:251: Failed to watch *unstructured.Unstructured: Unauthorized"))
		},
		want: "::error::kubernetes client: Unhandled Error logger=UnhandledError err=reflector.go:251: Failed to watch *unstructured.Unstructured: Unauthorized\n",
	}, {
		name: "a watch cut by the ready timeout is dropped",
		ctx:  context.Background(),
		log: func() {
			utilruntime.HandleError(fmt.Errorf("pkg/mod/k8s.io/client-go@v0.32.11/tools/cache/reflector.go:251: Failed to watch *unstructured.Unstructured: context deadline exceeded"))
		},
	}, {
		name: "a list cut by the ready timeout is dropped",
		ctx:  context.Background(),
		log: func() {
			klog.Warningf("reflector.go:251: failed to list *unstructured.Unstructured: Get \"https://127.0.0.1:6443/apis/apps/v1\": context deadline exceeded")
		},
	}, {
		name: "a watch cut by a stop is dropped",
		ctx:  stopped,
		log:  func() { klog.Warning(watchCut) },
	}, {
		name: "the same line without a stop is kept",
		ctx:  context.Background(),
		log:  func() { klog.Warning(watchCut) },
		want: "::warning::kubernetes client: " + watchCut + "\n",
	}, {
		name: "verbose lines are dropped",
		ctx:  context.Background(),
		log:  func() { klog.V(1).Info("Caches populated") },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			LogClientTo(tc.ctx, logging.New(&buf, slog.LevelInfo))
			defer klog.ClearLogger()
			tc.log()
			if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
