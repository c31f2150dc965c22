// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestCheckOwner: a result ConfigMap counts only when the run it names
// owns it; anyone may create a ConfigMap by a run's name.
func TestCheckOwner(t *testing.T) {
	run := Owner{Kind: KindPipelineRun, Name: "x", UID: "run-uid"}
	cm := func(refs ...metav1.OwnerReference) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "autox", OwnerReferences: refs}}
	}
	ref := func(kind, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "tekton.dev/v1", Kind: kind, Name: "x", UID: types.UID(uid)}
	}
	written := Target{Namespace: "autox", Owner: run}.configMap([]byte("{}"), nil)
	for _, tc := range []struct {
		name string
		cm   *corev1.ConfigMap
		run  Owner
		want string
	}{
		{"as Save writes it", written, run, ""},
		{"one of several owners", cm(ref("Deployment", "d"), ref(KindPipelineRun, "run-uid")), run, ""},
		{"no owner (made by hand)", cm(), run,
			"result ConfigMap autox/x is not owned by PipelineRun autox/x (it has no owner, run uid run-uid); it was not written by this run: delete it"},
		{"an earlier run of that name", cm(ref(KindPipelineRun, "old-uid")), run,
			"result ConfigMap autox/x is not owned by PipelineRun autox/x (owner uid old-uid, run uid run-uid); it was not written by this run: delete it"},
		{"the uid, but of another kind", cm(ref(KindTaskRun, "run-uid")), run,
			"result ConfigMap autox/x is not owned by PipelineRun autox/x (owner uid run-uid, run uid run-uid); it was not written by this run: delete it"},
		{"a run without uid owns nothing", cm(ref(KindPipelineRun, "")), Owner{Kind: KindPipelineRun, Name: "x"},
			"result ConfigMap autox/x is not owned by PipelineRun autox/x (owner uid none, run uid none); it was not written by this run: delete it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := CheckOwner(tc.cm, tc.run); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
