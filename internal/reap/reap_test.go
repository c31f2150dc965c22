// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package reap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	faketekton "github.com/tektoncd/pipeline/pkg/client/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

const ns = "autox"

// Succeeded conditions of a PipelineRun, as Tekton v1.9.0 writes them.
const (
	running   = `{type: Succeeded, status: Unknown, reason: Running}`
	cancelled = `{type: Succeeded, status: "False", reason: Cancelled, message: "PipelineRun was cancelled"}`
	timedOut  = `{type: Succeeded, status: "False", reason: PipelineRunTimeout}`
	succeeded = `{type: Succeeded, status: "True", reason: Succeeded}`
	failed    = `{type: Succeeded, status: "False", reason: Failed}`
)

func run(t *testing.T, name, condition string) *pipelinev1.PipelineRun {
	t.Helper()
	var pr pipelinev1.PipelineRun
	doc := fmt.Sprintf(`
metadata: {name: %s, namespace: autox}
spec:
  status: Cancelled
  pipelineRef: {name: autox-experiment}
status:
  conditions: [%s]
`, name, condition)
	if err := yaml.UnmarshalStrict([]byte(doc), &pr); err != nil {
		t.Fatalf("parsing PipelineRun %s: %v", name, err)
	}
	return &pr
}

// pod is the pod of TaskRun <run>-experiment, as Tekton names and labels
// it, in phase.
func pod(t *testing.T, run string, phase corev1.PodPhase) *corev1.Pod {
	t.Helper()
	var p corev1.Pod
	doc := fmt.Sprintf(`
metadata:
  name: %[1]s-experiment-pod
  namespace: autox
  uid: uid-%[1]s
  labels:
    tekton.dev/pipelineRun: %[1]s
    tekton.dev/taskRun: %[1]s-experiment
    tekton.dev/pipelineTask: experiment
status: {phase: %[2]s}
`, run, phase)
	if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
		t.Fatalf("parsing pod of %s: %v", run, err)
	}
	return &p
}

func named(p *corev1.Pod, name string) *corev1.Pod {
	p.Name = name
	p.UID = types.UID("uid-" + name)
	return p
}

func deleting(p *corev1.Pod) *corev1.Pod {
	p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1700000000, 0)}
	p.Finalizers = []string{"example.com/hold"}
	return p
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func newReaper(t *testing.T, kube *kubefake.Clientset, runs ...runtime.Object) *Reaper {
	return &Reaper{
		Kube:         kube,
		PipelineRuns: faketekton.NewSimpleClientset(runs...).TektonV1(),
		Namespace:    ns,
		Log:          slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Sleep:        func(context.Context, time.Duration) error { return nil },
	}
}

func podNames(t *testing.T, kube *kubefake.Clientset) []string {
	t.Helper()
	list, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

func TestReap(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  *pipelinev1.PipelineRun // nil: the run is gone
		pods []runtime.Object
		// wantDeleted is what Reap returns, wantLeft the pods left.
		wantDeleted []string
		wantLeft    []string
	}{{
		name:        "pending pod of a cancelled run is deleted",
		run:         run(t, "r1", cancelled),
		pods:        []runtime.Object{pod(t, "r1", corev1.PodPending)},
		wantDeleted: []string{"r1-experiment-pod"},
	}, {
		name:        "running pod of a cancelled run is deleted (its first step waits for tekton.dev/ready forever)",
		run:         run(t, "r1", cancelled),
		pods:        []runtime.Object{pod(t, "r1", corev1.PodRunning)},
		wantDeleted: []string{"r1-experiment-pod"},
	}, {
		name:        "pending pod of a timed-out run is deleted",
		run:         run(t, "r1", timedOut),
		pods:        []runtime.Object{pod(t, "r1", corev1.PodPending)},
		wantDeleted: []string{"r1-experiment-pod"},
	}, {
		name: "terminated pods of a cancelled run keep their logs",
		run:  run(t, "r1", cancelled),
		pods: []runtime.Object{
			pod(t, "r1", corev1.PodSucceeded),
			named(pod(t, "r1", corev1.PodFailed), "r1-experiment-pod-retry1"),
		},
		wantLeft: []string{"r1-experiment-pod", "r1-experiment-pod-retry1"},
	}, {
		name:     "pod already being deleted is left to finish",
		run:      run(t, "r1", cancelled),
		pods:     []runtime.Object{deleting(pod(t, "r1", corev1.PodRunning))},
		wantLeft: []string{"r1-experiment-pod"},
	}, {
		name: "pods of another run are untouched",
		run:  run(t, "r1", cancelled),
		pods: []runtime.Object{
			pod(t, "r1", corev1.PodPending),
			pod(t, "r2", corev1.PodPending),
			pod(t, "r10", corev1.PodRunning),
		},
		wantDeleted: []string{"r1-experiment-pod"},
		wantLeft:    []string{"r10-experiment-pod", "r2-experiment-pod"},
	}, {
		name:     "running pod of a succeeded run is left (its sidecars may be stopping)",
		run:      run(t, "r1", succeeded),
		pods:     []runtime.Object{pod(t, "r1", corev1.PodRunning)},
		wantLeft: []string{"r1-experiment-pod"},
	}, {
		name:     "running pod of a failed run is left",
		run:      run(t, "r1", failed),
		pods:     []runtime.Object{pod(t, "r1", corev1.PodRunning)},
		wantLeft: []string{"r1-experiment-pod"},
	}, {
		name:     "run gone: nothing to do",
		pods:     []runtime.Object{pod(t, "r1", corev1.PodPending)},
		wantLeft: []string{"r1-experiment-pod"},
	}, {
		name: "cancelled run without pods: nothing to do",
		run:  run(t, "r1", cancelled),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			kube := kubefake.NewClientset(tc.pods...)
			var runs []runtime.Object
			if tc.run != nil {
				runs = append(runs, tc.run)
			}
			deleted, err := newReaper(t, kube, runs...).Reap(context.Background(), "r1")
			if err != nil {
				t.Fatalf("Reap: %v", err)
			}
			if diff := cmp.Diff(tc.wantDeleted, deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLeft, podNames(t, kube)); diff != "" {
				t.Errorf("pods left (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReap_NotStopped(t *testing.T) {
	kube := kubefake.NewClientset(pod(t, "r1", corev1.PodPending))
	deleted, err := newReaper(t, kube, run(t, "r1", running)).Reap(context.Background(), "r1")
	if !errors.Is(err, ErrNotStopped) {
		t.Fatalf("Reap: got error %v, want ErrNotStopped", err)
	}
	want := `PipelineRun autox/r1: not stopped yet (reason "Running"); check again once it is done`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if len(deleted) != 0 {
		t.Errorf("deleted %v, want none", deleted)
	}
	if diff := cmp.Diff([]string{"r1-experiment-pod"}, podNames(t, kube)); diff != "" {
		t.Errorf("pods left (-want +got):\n%s", diff)
	}
}

// TestReap_PodReplaced: between the list and the delete, the pod was
// deleted and created again under the same name (new UID). The API server
// refuses a delete whose UID precondition no longer holds; the fake does
// not check preconditions, so a reactor plays the API server.
func TestReap_PodReplaced(t *testing.T) {
	kube := kubefake.NewClientset(pod(t, "r1", corev1.PodPending))
	var sentUID string
	kube.PrependReactor("delete", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		opts := a.(clienttesting.DeleteActionImpl).GetDeleteOptions()
		if opts.Preconditions != nil && opts.Preconditions.UID != nil {
			sentUID = string(*opts.Preconditions.UID)
		}
		if sentUID != "uid-r1-new" {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "r1-experiment-pod",
				fmt.Errorf("Precondition failed: UID in precondition: %s, UID in object meta: uid-r1-new", sentUID))
		}
		return false, nil, nil
	})
	deleted, err := newReaper(t, kube, run(t, "r1", cancelled)).Reap(context.Background(), "r1")
	if err != nil {
		t.Fatalf("Reap: %v", err)
	}
	if len(deleted) != 0 {
		t.Errorf("deleted %v, want none", deleted)
	}
	if diff := cmp.Diff("uid-r1", sentUID); diff != "" {
		t.Errorf("UID precondition (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"r1-experiment-pod"}, podNames(t, kube)); diff != "" {
		t.Errorf("pods left (-want +got):\n%s", diff)
	}
}

func TestReap_Errors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verb     string
		resource string
		want     string
	}{{
		name:     "pods cannot be listed",
		verb:     "list",
		resource: "pods",
		want:     `listing the pods of PipelineRun autox/r1: pods is forbidden: cannot list`,
	}, {
		name:     "a pod cannot be deleted",
		verb:     "delete",
		resource: "pods",
		want:     `deleting pod autox/r1-experiment-pod of PipelineRun r1: pods "r1-experiment-pod" is forbidden: cannot delete`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			kube := kubefake.NewClientset(pod(t, "r1", corev1.PodPending))
			kube.PrependReactor(tc.verb, tc.resource, func(a clienttesting.Action) (bool, runtime.Object, error) {
				var name string
				if d, ok := a.(clienttesting.DeleteActionImpl); ok {
					name = d.Name
				}
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: tc.resource}, name, errors.New("cannot "+tc.verb))
			})
			_, err := newReaper(t, kube, run(t, "r1", cancelled)).Reap(context.Background(), "r1")
			if err == nil {
				t.Fatal("Reap: got no error")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		run    *pipelinev1.PipelineRun // nil: the run is gone
		delays []time.Duration
		// created are pods Tekton creates, by check (before check i).
		created     map[int][]*corev1.Pod
		wantSlept   []time.Duration
		wantDeleted []string
		wantErr     string
	}{{
		name:        "pod created after the first check is deleted at the second",
		run:         run(t, "r1", cancelled),
		delays:      []time.Duration{FirstCheck, LastCheck},
		created:     map[int][]*corev1.Pod{1: {pod(t, "r1", corev1.PodPending)}},
		wantSlept:   []time.Duration{2 * time.Second, 8 * time.Second},
		wantDeleted: []string{"r1-experiment-pod"},
	}, {
		name:   "pods found at both checks are all reported",
		run:    run(t, "r1", cancelled),
		delays: []time.Duration{FirstCheck, LastCheck},
		created: map[int][]*corev1.Pod{
			0: {pod(t, "r1", corev1.PodPending)},
			1: {named(pod(t, "r1", corev1.PodPending), "r1-experiment-pod-retry1")},
		},
		wantSlept:   []time.Duration{2 * time.Second, 8 * time.Second},
		wantDeleted: []string{"r1-experiment-pod", "r1-experiment-pod-retry1"},
	}, {
		name:      "run gone: stops after the first check",
		delays:    []time.Duration{FirstCheck, LastCheck},
		wantSlept: []time.Duration{2 * time.Second},
	}, {
		name:      "run succeeded: stops after the first check",
		run:       run(t, "r1", succeeded),
		delays:    []time.Duration{FirstCheck, LastCheck},
		wantSlept: []time.Duration{2 * time.Second},
	}, {
		name:      "run still running at the last check",
		run:       run(t, "r1", running),
		delays:    []time.Duration{FirstCheck, LastCheck},
		wantSlept: []time.Duration{2 * time.Second, 8 * time.Second},
		wantErr:   `PipelineRun autox/r1: not stopped yet (reason "Running"); check again once it is done`,
	}, {
		name:    "delays out of order",
		run:     run(t, "r1", cancelled),
		delays:  []time.Duration{LastCheck, FirstCheck},
		wantErr: `reaping pods of PipelineRun autox/r1: delays [10s 2s] do not increase; list them in the order they come`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			kube := kubefake.NewClientset()
			var runs []runtime.Object
			if tc.run != nil {
				runs = append(runs, tc.run)
			}
			r := newReaper(t, kube, runs...)
			var slept []time.Duration
			r.Sleep = func(ctx context.Context, d time.Duration) error {
				for _, p := range tc.created[len(slept)] {
					if _, err := kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
						t.Fatalf("creating pod %s: %v", p.Name, err)
					}
				}
				slept = append(slept, d)
				return nil
			}
			deleted, err := r.After(context.Background(), "r1", tc.delays...)
			var gotErr string
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSlept, slept); diff != "" {
				t.Errorf("slept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDeleted, deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAfter_Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newReaper(t, kubefake.NewClientset(), run(t, "r1", cancelled))
	r.Sleep = nil // the real timer, which must give way to ctx
	_, err := r.After(ctx, "r1", time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("After: got %v, want context.Canceled", err)
	}
}
