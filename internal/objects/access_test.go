// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package objects

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// resettableMapper is a discovery cache that learns of a CRD installed
// since it was filled only when reset.
type resettableMapper struct {
	*meta.DefaultRESTMapper
	installed schema.GroupVersionKind
}

func (m *resettableMapper) Reset() {
	m.Add(m.installed, meta.RESTScopeNamespace)
}

var (
	deploymentsResource = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	widgetsResource     = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
)

func TestClusterAccess(t *testing.T) {
	gadgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gadgets"}
	for _, tc := range []struct {
		name     string
		resource schema.GroupVersionResource
		// denied verbs, by "verb namespace"
		denied   map[string]bool
		askErr   error
		wantKind string
		wantErr  string
	}{{
		name:     "served and allowed",
		resource: deploymentsResource,
		wantKind: "Deployment",
	}, {
		name:     "a CRD installed since discovery was cached",
		resource: gadgets,
		wantKind: "Gadget",
	}, {
		name:     "a version not served",
		resource: schema.GroupVersionResource{Group: "apps", Version: "v1beta9", Resource: "deployments"},
		wantErr:  "the API server does not serve deployments.apps/v1beta9; check the group, version and resource against kubectl api-resources",
	}, {
		name:     "a resource not served",
		resource: widgetsResource,
		wantErr:  "the API server does not serve widgets.example.com/v1; check the group, version and resource against kubectl api-resources",
	}, {
		name:     "may not list",
		resource: deploymentsResource,
		denied:   map[string]bool{"list default": true, "watch default": true},
		wantErr:  "may not list deployments.apps/v1 in namespace default; grant get, list and watch on deployments.apps to the watcher's ServiceAccount: kubectl apply what autox generate prints for this Trigger (a ClusterRole aggregated into autox-watched, and RoleBinding autox-watched in default)",
	}, {
		name:     "may list, not watch",
		resource: deploymentsResource,
		denied:   map[string]bool{"watch default": true},
		wantErr:  "may not watch deployments.apps/v1 in namespace default; grant get, list and watch on deployments.apps to the watcher's ServiceAccount: kubectl apply what autox generate prints for this Trigger (a ClusterRole aggregated into autox-watched, and RoleBinding autox-watched in default)",
	}, {
		name:     "may not ask",
		resource: deploymentsResource,
		askErr:   errors.New(`selfsubjectaccessreviews.authorization.k8s.io is forbidden`),
		wantErr:  "asking whether we may list deployments.apps/v1 in namespace default: selfsubjectaccessreviews.authorization.k8s.io is forbidden",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			mapper := &resettableMapper{DefaultRESTMapper: meta.NewDefaultRESTMapper(nil), installed: schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Gadget"}}
			mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
			kube := kubefake.NewClientset()
			kube.PrependReactor("create", "selfsubjectaccessreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
				review := action.(clienttesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
				attrs := review.Spec.ResourceAttributes
				review.Status.Allowed = !tc.denied[attrs.Verb+" "+attrs.Namespace]
				return true, review, tc.askErr
			})
			a := &ClusterAccess{Mapper: mapper, Kube: kube, Account: "the watcher's ServiceAccount"}
			gotErr := ""
			kind, err := a.CanWatch(context.Background(), tc.resource, "default")
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("CanWatch error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKind, kind); diff != "" {
				t.Errorf("CanWatch kind (-want +got):\n%s", diff)
			}
		})
	}
}
