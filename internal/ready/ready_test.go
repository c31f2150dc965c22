// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package ready

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/autox-tekton/autox/internal/experiment"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestObjectReady(t *testing.T) {
	available := experiment.Wait{Condition: "Available"}
	for _, tc := range []struct {
		name   string
		yaml   string
		wait   experiment.Wait
		wantOK bool
		want   string
	}{
		{"available", `status: {conditions: [{type: Available, status: "True", reason: MinimumReplicasAvailable}]}`, available, true, "Available=True (MinimumReplicasAvailable)"},
		{"not available, with reason and message", `status: {conditions: [{type: Progressing, status: "True"}, {type: Available, status: "False", reason: MinimumReplicasUnavailable, message: Deployment does not have minimum availability.}]}`, available, false, "Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability."},
		{"no condition yet", `status: {}`, available, false, "no Available condition yet"},
		{"existence is enough", `metadata: {name: x}`, experiment.Wait{}, true, "exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := objectReady(obj(t, tc.yaml), tc.wait)
			if diff := cmp.Diff([]any{tc.wantOK, tc.want}, []any{ok, why}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEndpointsReady(t *testing.T) {
	for _, tc := range []struct {
		name   string
		slices []string
		wantOK bool
		want   string
	}{
		{"no slice", nil, false, "no EndpointSlice (does its selector match any pod?)"},
		{"none ready", []string{`endpoints: [{conditions: {ready: false}}, {conditions: {}}]`}, false, "0 of 2 endpoints ready"},
		{"one ready", []string{`endpoints: []`, `endpoints: [{conditions: {ready: false}}, {conditions: {ready: true}}]`}, true, "has ready endpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var list []*unstructured.Unstructured
			for _, s := range tc.slices {
				list = append(list, obj(t, s))
			}
			ok, why := endpointsReady(list)
			if diff := cmp.Diff([]any{tc.wantOK, tc.want}, []any{ok, why}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
