// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package pipelineruns_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
	"github.com/autox-tekton/autox/internal/store"
)

// TestResultNotOwned: a ConfigMap by the run's name that the run does not
// own is no result of it, however well it reads: made by hand (no owner),
// or left by an earlier PipelineRun of that name (another uid).
func TestResultNotOwned(t *testing.T) {
	ctx := context.Background()
	good := pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(100, 1, 9)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(100, 2, 20)})
	data, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		owners []metav1.OwnerReference
		want   string
	}{{
		name: "forged: no owner",
		want: "no stored result of autox-httpbin-iter8-5f6a7b8c9d (version 2.0.0): result ConfigMap autox/autox-httpbin-iter8-5f6a7b8c9d is not owned by PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d (it has no owner, run uid uid-autox-httpbin-iter8-5f6a7b8c9d); it was not written by this run: delete it",
	}, {
		name:   "owned by an earlier run of that name",
		owners: []metav1.OwnerReference{{APIVersion: "tekton.dev/v1", Kind: store.KindPipelineRun, Name: v2.Name(), UID: "earlier"}},
		want:   "no stored result of autox-httpbin-iter8-5f6a7b8c9d (version 2.0.0): result ConfigMap autox/autox-httpbin-iter8-5f6a7b8c9d is not owned by PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d (owner uid earlier, run uid uid-autox-httpbin-iter8-5f6a7b8c9d); it was not written by this run: delete it",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(&corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: v2.Name(), Namespace: pipelinerunstest.Namespace, OwnerReferences: tc.owners,
					Labels: map[string]string{store.LabelGroup: "httpbin", store.LabelSpec: "iter8", store.LabelVersion: "2.0.0"}},
				Data: map[string]string{store.DataKey: string(data)},
			})
			f := pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(v2.PipelineRun(t)), ConfigMaps: client.CoreV1(), Namespace: pipelinerunstest.Namespace}
			r, err := f.Get(ctx, v2.Name())
			if err != nil {
				t.Fatal(err)
			}
			s, err := f.Result(ctx, r)
			var missing *pipelineruns.MissingError
			if s != nil || !errors.As(err, &missing) {
				t.Fatalf("Result = %v, %v; want no result and a *pipelineruns.MissingError", s, err)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
