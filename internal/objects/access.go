// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package objects

import (
	"context"
	"fmt"

	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Access tells whether a resource may be watched in a namespace: its
// kind (events name it), or an error that says why not and what to do.
type Access interface {
	CanWatch(ctx context.Context, r schema.GroupVersionResource, namespace string) (kind string, err error)
}

var _ Access = (*ClusterAccess)(nil)

// ClusterAccess asks the API server: discovery for whether it serves the
// resource, and SelfSubjectAccessReviews for whether this ServiceAccount
// may list and watch it. Asking first turns what would be an informer
// retrying forever with a 404 or 403 into one clear line.
type ClusterAccess struct {
	Mapper meta.RESTMapper
	Kube   kubernetes.Interface
	// Account names who needs the grant, for messages, e.g. "the
	// watcher's ServiceAccount".
	Account string
}

// CanWatch implements Access.
func (a *ClusterAccess) CanWatch(ctx context.Context, r schema.GroupVersionResource, namespace string) (string, error) {
	gvk, err := a.Mapper.KindFor(r)
	if err != nil {
		if !meta.IsNoMatchError(err) {
			return "", fmt.Errorf("asking the API server whether it serves %s: %w", groupResource(r), err)
		}
		// A CRD installed since the last look: discovery is cached.
		if m, ok := a.Mapper.(meta.ResettableRESTMapper); ok {
			m.Reset()
			gvk, err = a.Mapper.KindFor(r)
		}
		if err != nil {
			return "", fmt.Errorf("the API server does not serve %s; check the group, version and resource against kubectl api-resources", groupResource(r))
		}
	}
	for _, verb := range []string{"list", "watch"} {
		review := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{
			Namespace: namespace, Verb: verb, Group: r.Group, Version: r.Version, Resource: r.Resource,
		}}}
		res, err := a.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return "", fmt.Errorf("asking whether we may %s %s in namespace %s: %w", verb, groupResource(r), namespace, err)
		}
		if !res.Status.Allowed {
			return "", fmt.Errorf("may not %s %s in namespace %s; grant get, list and watch on %s to %s: kubectl apply what autox generate prints for this Trigger (a ClusterRole aggregated into autox-watched, and RoleBinding autox-watched in %s)", verb, groupResource(r), namespace, r.GroupResource(), a.Account, namespace)
		}
	}
	return gvk.Kind, nil
}

// groupResource names a resource as kubectl does, with its version:
// deployments.apps/v1, or pods/v1 for the core group.
func groupResource(r schema.GroupVersionResource) string {
	if r.Group == "" {
		return r.Resource + "/" + r.Version
	}
	return r.Resource + "." + r.Group + "/" + r.Version
}
