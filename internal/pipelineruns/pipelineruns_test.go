// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package pipelineruns_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
	"github.com/autox-tekton/autox/internal/store"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Three runs of httpbin/iter8: 1.0.0 (cancelled by 2.0.0), 2.0.0 and a
// later 2.0.0, decided within one second (creationTimestamp is equal, the
// annotation orders them); and one of a group whose name has a '-'.
var (
	v1Cancelled = pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "1.0.0", Hash: "0a1b2c3d4e", DecidedAt: t0.Add(100 * time.Millisecond), Status: pipelinerunstest.Cancelled}
	v2          = pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "2.0.0", Hash: "5f6a7b8c9d", DecidedAt: t0.Add(300 * time.Millisecond), Status: pipelinerunstest.Succeeded}
	v2Again     = pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "2.0.0", Hash: "aaaabbbbcc", DecidedAt: t0.Add(700 * time.Millisecond), Status: pipelinerunstest.Running}
	dashed      = pipelinerunstest.PR{Group: "my-app", Spec: "slo-check", Version: "0.1", Hash: "0123456789", DecidedAt: t0, Status: pipelinerunstest.Failed}
)

func finder(t *testing.T, objs ...runtime.Object) pipelineruns.Finder {
	t.Helper()
	return pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(objs...), ConfigMaps: fake.NewClientset().CoreV1(), Namespace: pipelinerunstest.Namespace}
}

func TestGroup(t *testing.T) {
	all := func(t *testing.T) []runtime.Object {
		return []runtime.Object{v2Again.PipelineRun(t), v1Cancelled.PipelineRun(t), v2.PipelineRun(t), dashed.PipelineRun(t)}
	}
	for _, tc := range []struct {
		name    string
		objs    func(t *testing.T) []runtime.Object
		group   string
		want    []string // run names, oldest first
		wantErr string
	}{
		{name: "runs ordered by decided-at", objs: all, group: "autox-httpbin-iter8",
			want: []string{v1Cancelled.Name(), v2.Name(), v2Again.Name()}},
		{name: "group and spec with dashes", objs: all, group: "autox-my-app-slo-check", want: []string{dashed.Name()}},
		{name: "misspelt group", objs: all, group: "autox-httpbin-iter9",
			wantErr: "-g: no group autox-httpbin-iter9; the groups with runs are: autox-httpbin-iter8, autox-my-app-slo-check; did you mean autox-httpbin-iter8?"},
		{name: "group without prefix and spec", objs: all, group: "httpbin",
			wantErr: "-g: no group httpbin; the groups with runs are: autox-httpbin-iter8, autox-my-app-slo-check; did you mean autox-httpbin-iter8?"},
		{name: "group without prefix", objs: all, group: "httpbin-iter8",
			wantErr: "-g: no group httpbin-iter8; the groups with runs are: autox-httpbin-iter8, autox-my-app-slo-check; did you mean autox-httpbin-iter8?"},
		{name: "a Trigger but no run yet", group: "autox-routeguide-iter8",
			objs: func(t *testing.T) []runtime.Object {
				return append(all(t), pipelinerunstest.Trigger(t, "routeguide", "iter8", "routeguide"))
			},
			wantErr: "-g: no run yet of autox-routeguide-iter8: is the object labelled? kubectl get deployments.apps routeguide -n default -L app.kubernetes.io/version, and kubectl -n autox logs deploy/autox-interceptor"},
		{name: "only Triggers", group: "autox-routeguid-iter8",
			objs: func(t *testing.T) []runtime.Object {
				return []runtime.Object{pipelinerunstest.Trigger(t, "routeguide", "iter8", "routeguide")}
			},
			wantErr: "-g: no group autox-routeguid-iter8; no group has a run yet; the groups with a Trigger are: autox-routeguide-iter8; did you mean autox-routeguide-iter8?"},
		{name: "nothing of autox in the namespace", objs: func(*testing.T) []runtime.Object { return nil }, group: "autox-httpbin-iter8",
			wantErr: "-g: no group autox-httpbin-iter8: namespace autox has no autox runs or Triggers; is autox installed there? -n names another namespace"},
		{name: "two groups of one name", group: "autox-a-b-c",
			objs: func(t *testing.T) []runtime.Object {
				return []runtime.Object{
					pipelinerunstest.PR{Group: "a-b", Spec: "c", Version: "1", Hash: "1111111111", DecidedAt: t0, Status: pipelinerunstest.Succeeded}.PipelineRun(t),
					pipelinerunstest.PR{Group: "a", Spec: "b-c", Version: "1", Hash: "2222222222", DecidedAt: t0, Status: pipelinerunstest.Succeeded}.PipelineRun(t),
				}
			},
			wantErr: `-g: autox-a-b-c names the runs of group "a" spec "b-c" and group "a-b" spec "c"; rename one group or spec (tkn pipelinerun list -n autox --label autox.dev/group=<group>,autox.dev/spec=<spec> lists each)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := finder(t, tc.objs(t)...).Group(context.Background(), tc.group)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			var got []string
			for _, r := range g.Runs {
				got = append(got, r.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRunFields: what a run says, for each state Tekton leaves it in.
// Version and Object are its labels autox.dev/version and autox.dev/name;
// its app.kubernetes.io/version (autox's own, 0.1) is not the version.
func TestRunFields(t *testing.T) {
	timedOut := pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "3.0.0", Hash: "ffffffffff", DecidedAt: t0.Add(time.Second), Status: pipelinerunstest.TimedOut}
	f := finder(t, v1Cancelled.PipelineRun(t), v2.PipelineRun(t), v2Again.PipelineRun(t), timedOut.PipelineRun(t))
	g, err := f.Group(context.Background(), "autox-httpbin-iter8")
	if err != nil {
		t.Fatal(err)
	}
	want := []pipelineruns.Run{
		{Name: v1Cancelled.Name(), UID: "uid-" + v1Cancelled.Name(), Group: "httpbin", Spec: "iter8", Version: "1.0.0", Object: "httpbin", DecidedAt: v1Cancelled.DecidedAt, State: pipelineruns.Cancelled,
			Reason: "Cancelled", Message: `PipelineRun "autox-httpbin-iter8-0a1b2c3d4e" was cancelled`},
		{Name: v2.Name(), UID: "uid-" + v2.Name(), Group: "httpbin", Spec: "iter8", Version: "2.0.0", Object: "httpbin", DecidedAt: v2.DecidedAt, State: pipelineruns.Succeeded,
			Reason: "Succeeded", Message: "Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0"},
		{Name: v2Again.Name(), UID: "uid-" + v2Again.Name(), Group: "httpbin", Spec: "iter8", Version: "2.0.0", Object: "httpbin", DecidedAt: v2Again.DecidedAt, State: pipelineruns.Running},
		{Name: timedOut.Name(), UID: "uid-" + timedOut.Name(), Group: "httpbin", Spec: "iter8", Version: "3.0.0", Object: "httpbin", DecidedAt: timedOut.DecidedAt, State: pipelineruns.TimedOut,
			Reason: "PipelineRunTimeout", Message: `PipelineRun "autox-httpbin-iter8-ffffffffff" failed to finish within "1h0m0s"`},
	}
	if diff := cmp.Diff(want, g.Runs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		version, want, wantErr string
	}{
		{"", timedOut.Name(), ""},
		{"2.0.0", v2Again.Name(), ""},
		{"1.0.0", v1Cancelled.Name(), ""},
		{"9", "", `--version: no run of autox-httpbin-iter8 has version "9"; its versions are: 3.0.0, 2.0.0, 1.0.0`},
	} {
		r, err := g.Latest(tc.version)
		if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
			t.Errorf("Latest(%q) error (-want +got):\n%s", tc.version, diff)
		}
		if r.Name != tc.want {
			t.Errorf("Latest(%q) = %s, want %s", tc.version, r.Name, tc.want)
		}
	}
	var latest []string
	for _, r := range g.LatestPerVersion() {
		latest = append(latest, r.Name)
	}
	if diff := cmp.Diff([]string{timedOut.Name(), v2Again.Name(), v1Cancelled.Name()}, latest); diff != "" {
		t.Errorf("LatestPerVersion (-want +got):\n%s", diff)
	}
}

// TestResult: a stored result comes back as store wrote it; a missing
// one says why, from the run's state and its TaskRun.
func TestResult(t *testing.T) {
	ctx := context.Background()
	stored := pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(100, 1, 9)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(100, 2, 20)})
	failed := pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "4.0.0", Hash: "4444444444", DecidedAt: t0, Status: pipelinerunstest.Failed}
	failedNoTaskRun := pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "5.0.0", Hash: "5555555555", DecidedAt: t0, Status: pipelinerunstest.Failed}
	client := fake.NewClientset()
	pipelinerunstest.Store(t, client, v2, stored)
	f := pipelineruns.Finder{
		Dynamic: pipelinerunstest.Dynamic(v1Cancelled.PipelineRun(t), v2.PipelineRun(t), v2Again.PipelineRun(t), failed.PipelineRun(t),
			failed.TaskRun(t, "ready", 3), failedNoTaskRun.PipelineRun(t)),
		ConfigMaps: client.CoreV1(), Namespace: pipelinerunstest.Namespace,
	}
	gone := v2
	gone.Hash = "9999999999"
	for _, tc := range []struct {
		name    string
		pr      pipelinerunstest.PR
		wantErr string
	}{
		{"stored", v2, ""},
		{"still running", v2Again, "no stored result of autox-httpbin-iter8-aaaabbbbcc (version 2.0.0): it is still running; its assess step stores the result when the load is done"},
		{"cancelled", v1Cancelled, "no stored result of autox-httpbin-iter8-0a1b2c3d4e (version 1.0.0): it was cancelled before its assess step stored one"},
		{"ready failed", failed, "no stored result of autox-httpbin-iter8-4444444444 (version 4.0.0): it failed before its assess step stored one: task experiment, step ready exited with code 3; its log says why: tkn taskrun logs -n autox autox-httpbin-iter8-4444444444-experiment"},
		{"failed, TaskRun gone", failedNoTaskRun, "no stored result of autox-httpbin-iter8-5555555555 (version 5.0.0): it failed before its assess step stored one (Failed: Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0)"},
		{"succeeded, ConfigMap deleted", gone, "no stored result of autox-httpbin-iter8-9999999999 (version 2.0.0): ConfigMap autox/autox-httpbin-iter8-9999999999 is gone (it is deleted with its PipelineRun; was it deleted by hand?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := f.Get(ctx, tc.pr.Name())
			if tc.pr == gone {
				r, err = pipelineruns.Run{Name: gone.Name(), UID: "uid-" + gone.Name(), Version: "2.0.0", State: pipelineruns.Succeeded}, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := f.Result(ctx, r)
			if diff := cmp.Diff(tc.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			var missing *pipelineruns.MissingError
			if err != nil && !errors.As(err, &missing) {
				t.Errorf("error is %T, want *pipelineruns.MissingError", err)
			}
			if err == nil {
				// As JSON: the experiment has unexported fields.
				want, _ := json.Marshal(stored)
				got, _ := json.Marshal(s.Result)
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("result (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestResultDropped: a result cut to fit says what it lost.
func TestResultDropped(t *testing.T) {
	client := fake.NewClientset()
	pipelinerunstest.Store(t, client, v2, pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: []float64{1}}, pipelinerunstest.Load{LatenciesMs: []float64{2}}))
	cm, err := client.CoreV1().ConfigMaps("autox").Get(context.Background(), v2.Name(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Annotations = map[string]string{store.DroppedAnnotation: store.DroppedLatency + "," + store.DroppedHistogram}
	if _, err := client.CoreV1().ConfigMaps("autox").Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f := pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(), ConfigMaps: client.CoreV1(), Namespace: "autox"}
	s, err := f.Result(context.Background(), pipelineruns.Run{Name: v2.Name(), UID: "uid-" + v2.Name(), State: pipelineruns.Succeeded})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"endpoints[].latency", "endpoints[].histogram"}, s.Dropped); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// fakeClock is Wait's clock: each sleep moves time on and may change the
// cluster (finish the run) after a number of sleeps.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
	onPoll func(n int)
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	if c.onPoll != nil {
		c.onPoll(len(c.sleeps))
	}
	return nil
}

func TestWait(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		finishAt   int // the run succeeds at this sleep; 0: never
		timeout    time.Duration
		wantState  pipelineruns.State
		wantErr    error
		wantSleeps []time.Duration
		wantSaid   []time.Duration
	}{
		{name: "finishes", finishAt: 6, timeout: time.Minute, wantState: pipelineruns.Succeeded,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second},
			wantSaid:   []time.Duration{12500 * time.Millisecond}},
		{name: "times out", timeout: 20 * time.Second, wantState: pipelineruns.Running, wantErr: pipelineruns.ErrTimeout,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 2500 * time.Millisecond},
			wantSaid:   []time.Duration{12500 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dyn := pipelinerunstest.Dynamic(v2Again.PipelineRun(t))
			clock := &fakeClock{now: t0}
			clock.onPoll = func(n int) {
				if n != tc.finishAt {
					return
				}
				done := v2Again
				done.Status = pipelinerunstest.Succeeded
				if _, err := dyn.Resource(pipelineruns.PipelineRuns).Namespace("autox").Update(ctx, done.PipelineRun(t), metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			f := pipelineruns.Finder{Dynamic: dyn, ConfigMaps: fake.NewClientset().CoreV1(), Namespace: "autox", Now: clock.Now, Sleep: clock.Sleep}
			r, err := f.Get(ctx, v2Again.Name())
			if err != nil {
				t.Fatal(err)
			}
			var said []time.Duration
			r, err = f.Wait(ctx, r, tc.timeout, func(r pipelineruns.Run, waited time.Duration) { said = append(said, waited) })
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if r.State != tc.wantState {
				t.Errorf("state %s, want %s", r.State, tc.wantState)
			}
			if diff := cmp.Diff(tc.wantSleeps, clock.sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSaid, said); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFailureLogLine: a failed step's last log line says why; the fake
// API server answers every log request with "fake logs".
func TestFailureLogLine(t *testing.T) {
	failed := pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: "4.0.0", Hash: "4444444444", DecidedAt: t0, Status: pipelinerunstest.Failed}
	client := fake.NewClientset()
	f := pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(failed.PipelineRun(t), failed.TaskRun(t, "ready", 3)), ConfigMaps: client.CoreV1(), Pods: client.CoreV1(), Namespace: "autox"}
	r, err := f.Get(context.Background(), failed.Name())
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Failure(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := &pipelineruns.Failure{Task: "experiment", TaskRun: failed.Name() + "-experiment", Namespace: "autox", Step: "ready", ExitCode: 3,
		Reason: "Failed", Message: `"step-ready" exited with code 3`, LastLogLine: "fake logs"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("task experiment, step ready exited with code 3: fake logs", got.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
