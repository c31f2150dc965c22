// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/autox-tekton/autox/internal/contract"
)

// TestRecordStore: a record goes to a ConfigMap owned by its Trigger and
// comes back the same; every update names the resourceVersion it read;
// a second create is AlreadyExists; a ConfigMap that is not a record is
// an error that says what to do.
func TestRecordStore(t *testing.T) {
	kube := kubefake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: contract.RecordName("broken", "iter8"), Namespace: ns, Labels: map[string]string{contract.RecordLabel: "true", contract.GroupLabel: "broken", contract.SpecLabel: "iter8"}},
		Data:       map[string]string{contract.RecordKey: "{not json"},
	})
	var updatedWith []string
	kube.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		updatedWith = append(updatedWith, a.(k8stesting.UpdateAction).GetObject().(*corev1.ConfigMap).ResourceVersion)
		return false, nil, nil
	})
	s := NewRecordStore(kube, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), s.HasSynced) {
		t.Fatal("not synced")
	}
	g := groupsOf(t, httpbinTrigger)["autox-httpbin-iter8"].group
	made, err := s.Create(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, g); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v, want AlreadyExists", err)
	}
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "autox-record-httpbin.iter8", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOwner := []metav1.OwnerReference{{APIVersion: "triggers.tekton.dev/v1beta1", Kind: "Trigger", Name: "autox-httpbin-iter8", UID: "tr-1"}}
	if diff := cmp.Diff(wantOwner, cm.OwnerReferences); diff != "" {
		t.Errorf("owner (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{contract.RecordLabel: "true", contract.GroupLabel: "httpbin", contract.SpecLabel: "iter8", contract.PartOfLabel: "autox"}, cm.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	made.ResourceVersion = "41"
	made.Seq = 1
	made.Runs = []contract.Entry{{Seq: 1, Run: "autox-httpbin-iter8-0123456789", Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0, State: contract.Launched}}
	if _, err := s.Update(ctx, made); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"41"}, updatedWith); diff != "" {
		t.Errorf("the update's resourceVersion (-want +got):\n%s", diff)
	}
	var cached StoredRecord
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		r, ok, err := s.Cached("httpbin", "iter8")
		cached = r
		return ok && err == nil && r.Seq == 1, nil
	}); err != nil {
		t.Fatalf("the cache never showed the update: %v", err)
	}
	live, ok, err := s.Live(ctx, "httpbin", "iter8")
	if err != nil || !ok {
		t.Fatalf("live read: %v %t", err, ok)
	}
	for _, got := range []contract.Record{cached.Record, live.Record} {
		if diff := cmp.Diff(made.Record, got); diff != "" {
			t.Errorf("record read back (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff([]string{"broken/iter8", "httpbin/iter8"}, sortedKeys(s.Keys())); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	_, _, err = s.Cached("broken", "iter8")
	if want := `ConfigMap autox/autox-record-broken.iter8: record.json is not a record: invalid character 'n' looking for beginning of object key string; only autox writes records: delete it to start the group afresh`; err == nil || err.Error() != want {
		t.Errorf("a broken record: %v\nwant %s", err, want)
	}
	if _, ok, err := s.Cached("none", "iter8"); ok || err != nil {
		t.Errorf("no record: %t %v, want not found and no error", ok, err)
	}
}

func sortedKeys(keys []string) []string {
	slices.Sort(keys)
	return keys
}

// TestGroupCache: Triggers are parsed once, as they change; a bad one is
// an error of its own and names nothing.
func TestGroupCache(t *testing.T) {
	bad := groupTrigger(t, 2)
	unstructured.RemoveNestedField(bad.Object, "spec", "interceptors")
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{contract.TriggersResource: "TriggerList"}, groupTrigger(t, 1), bad)
	c, err := NewGroupCache(client, ns)
	if err != nil {
		t.Fatal(err)
	}
	changes := make(chan struct{}, 10)
	c.OnChange(func() { changes <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), c.HasSynced) {
		t.Fatal("not synced")
	}
	g, ok, err := c.Group("autox-g1-iter8")
	if !ok || err != nil || g.Group != "g1" || g.Params.Trigger.Name != "d1" {
		t.Errorf("Group(autox-g1-iter8) = %+v, %t, %v", g, ok, err)
	}
	if _, ok, err := c.Group("autox-g2-iter8"); !ok || err == nil {
		t.Errorf("Group(autox-g2-iter8): %t, %v; want its problem", ok, err)
	}
	if _, ok, _ := c.Group("autox-g3-iter8"); ok {
		t.Error("Group(autox-g3-iter8) found; there is no such Trigger")
	}
	ref := contract.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Metadata: contract.Meta{Name: "d1", Namespace: "default"}}
	if diff := cmp.Diff([]string{"autox-g1-iter8"}, c.Naming(ref)); diff != "" {
		t.Errorf("Naming (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]contract.Object{{Name: "d1", Namespace: "default", Group: "apps", Version: "v1", Resource: "deployments"}}, c.Targets()); diff != "" {
		t.Errorf("Targets (-want +got):\n%s", diff)
	}
	if err := client.Resource(contract.TriggersResource).Namespace(ns).Delete(ctx, "autox-g1-iter8", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		_, ok, _ := c.Group("autox-g1-iter8")
		return !ok, nil
	}); err != nil {
		t.Fatal("the deleted Trigger is still in the cache")
	}
	if len(changes) < 3 {
		t.Errorf("%d changes told, want one per add and delete (3)", len(changes))
	}
}
