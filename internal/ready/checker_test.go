// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package ready

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
)

var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	deployWeb   = experiment.Wait{Group: "apps", Version: "v1", Resource: "deployments", Name: "web", Condition: "Available", Kind: "deployment", Path: "ready.deploy"}
)

// cluster is a fake cluster: the Deployment web in namespace shop (with
// Available as given), the pods given, and answers to "may I watch?".
type cluster struct {
	dynamic  *dynamicfake.FakeDynamicClient
	kube     *kubefake.Clientset
	mayWatch bool
}

func newCluster(t *testing.T, available string, pods ...runtime.Object) *cluster {
	t.Helper()
	web := obj(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {selector: {matchLabels: {app: web}}}
status: {conditions: [{type: Available, status: "`+available+`", reason: MinimumReplicasUnavailable}]}
`)
	c := &cluster{
		dynamic: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
			deployments: "DeploymentList", endpointSlices: "EndpointSliceList",
		}, web),
		kube:     kubefake.NewClientset(pods...),
		mayWatch: true,
	}
	c.kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		review := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = c.mayWatch
		return true, review, nil
	})
	return c
}

func (c *cluster) checker(t *testing.T) *Checker {
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Service"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"}, meta.RESTScopeNamespace)
	return &Checker{Dynamic: c.dynamic, Kube: c.kube, Mapper: mapper, Log: logging.New(testLog{t}, slog.LevelInfo)}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func TestBecomesReadyAfterAnUpdate(t *testing.T) {
	c := newCluster(t, "False")
	watchers := make(chan *watch.FakeWatcher, 4)
	c.dynamic.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		w := watch.NewFake()
		watchers <- w
		return true, w, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.checker(t).Wait(ctx, "shop", []experiment.Wait{deployWeb}, time.Hour) }()

	w := <-watchers
	w.Modify(obj(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, resourceVersion: "2"}
status: {conditions: [{type: Available, status: "True", reason: MinimumReplicasAvailable}]}
`))
	if err := <-done; err != nil {
		t.Errorf("Wait after the Deployment became Available = %v, want nil", err)
	}
}

// TestFails: every way Wait fails, each with its full message, and
// whether it is bad input (exit 2) or a failure (exit 3).
func TestFails(t *testing.T) {
	waitingPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull"}},
		}}},
	}
	otherPod := waitingPod.DeepCopy()
	otherPod.Name, otherPod.Labels = "db-1", map[string]string{"app": "db"}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "",
		errors.New(`User "system:serviceaccount:shop:nobody" cannot list resource "deployments" in API group "apps" in the namespace "shop"`))

	type outcome struct {
		Message         string
		Input, NotReady bool
		// Fast: failed long before its hour-long timeout.
		Fast bool
	}
	for _, tc := range []struct {
		name    string
		setup   func(*cluster)
		pods    []runtime.Object
		wait    experiment.Wait
		timeout time.Duration
		want    outcome
	}{{
		name:    "times out with the state and the pod's waiting reason",
		pods:    []runtime.Object{waitingPod, otherPod},
		wait:    deployWeb,
		timeout: 200 * time.Millisecond,
		want: outcome{
			Message:  "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 200ms; pod web-1 container app is waiting: ErrImageNeverPull",
			NotReady: true,
		},
	}, {
		name: "list forbidden fails at once",
		setup: func(c *cluster) {
			c.dynamic.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, forbidden })
		},
		wait:    deployWeb,
		timeout: time.Hour,
		want: outcome{
			Message: `deployments.apps is forbidden: User "system:serviceaccount:shop:nobody" cannot list resource "deployments" in API group "apps" in the namespace "shop"; grant get, list and watch on deployments.apps to the step's ServiceAccount`,
			Fast:    true,
		},
	}, {
		name:    "watch forbidden fails at once",
		setup:   func(c *cluster) { c.mayWatch = false },
		wait:    deployWeb,
		timeout: time.Hour,
		want:    outcome{Message: "may list but not watch deployments.apps in namespace shop; grant watch to the step's ServiceAccount", Fast: true},
	}, {
		name:    "unknown resource is bad input",
		wait:    experiment.Wait{Group: "apps", Version: "v1", Resource: "deploymentz", Name: "web", Kind: "deploymentz", Path: "ready.objects[0]"},
		timeout: time.Hour,
		want: outcome{
			Message: `ready.objects[0]: "deploymentz" is not a resource the API server serves (group "apps", version "v1"); check the spelling, or install its CRD`,
			Input:   true, Fast: true,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, "False", tc.pods...)
			if tc.setup != nil {
				tc.setup(c)
			}
			// A case that should fail at once gets 10s before the test
			// gives up on it, not the hour it asks for.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := c.checker(t).Wait(ctx, "shop", []experiment.Wait{tc.wait}, tc.timeout)
			if err == nil {
				t.Fatal("Wait succeeded")
			}
			got := outcome{Message: err.Error(), Input: badinput.Is(err), NotReady: errors.Is(err, ErrNotReady),
				Fast: tc.timeout == time.Hour && ctx.Err() == nil}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
