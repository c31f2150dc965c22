// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/pipelineruns"
	"github.com/autox-tekton/autox/internal/pipelineruns/pipelinerunstest"
	"github.com/autox-tekton/autox/internal/result"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// The runs of the seed's tutorial: httpbin labelled 1.0.0, then 2.0.0
// (which cancelled 1.0.0's run), as the TriggerTemplate makes them.
func pr(version, hash string, at time.Duration, status pipelinerunstest.Status) pipelinerunstest.PR {
	return pipelinerunstest.PR{Group: "httpbin", Spec: "iter8", Version: version, Hash: hash, DecidedAt: t0.Add(at), Status: status}
}

var (
	passing = func(t *testing.T) *result.Result {
		return pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 2, 8)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 5, 30)})
	}
	slow = func(t *testing.T) *result.Result {
		return pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(200, 40, 110)}, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(197, 5, 30), Errors: 3})
	}
	stopped = func(t *testing.T) *result.Result {
		return pipelinerunstest.Result(t, 50, pipelinerunstest.Load{LatenciesMs: pipelinerunstest.Spread(50, 2, 8), Stopped: "stopped by SIGTERM after 50 of 200 requests"}, pipelinerunstest.Load{})
	}
)

// cluster is a fake API server: the objects, the results stored as
// internal/store stores them, and the group's history in autox-system as
// internal/history keeps it (oldest first), unless it is forbidden.
type cluster struct {
	objs      []runtime.Object
	results   map[pipelinerunstest.PR]*result.Result
	history   []kept
	forbidden bool
}

// kept is a run's result in the history.
type kept struct {
	run    pipelinerunstest.PR
	passed bool
	result *result.Result
}

func (c cluster) finder(t *testing.T) pipelineruns.Finder {
	t.Helper()
	client := fake.NewClientset()
	for p, r := range c.results {
		pipelinerunstest.Store(t, client, p, r)
	}
	// The fake API server sets no resourceVersion; a history's is what
	// tells history.Store an update from a create.
	client.PrependReactor("create", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if cm, ok := a.(k8stesting.CreateAction).GetObject().(*corev1.ConfigMap); ok && cm.Labels[history.Label] == "true" {
			cm.ResourceVersion = "1"
		}
		return false, nil, nil
	})
	hs := history.Store{ConfigMaps: client.CoreV1(), Namespace: "autox-system"}
	for _, k := range c.history {
		e := history.Entry{Version: k.run.Version, Run: k.run.Name(), RunUID: "uid-" + k.run.Name(), Passed: k.passed, EndTime: k.result.EndTime}
		if err := hs.Keep(context.Background(), k.run.Group, k.run.Spec, nil, e, k.result); err != nil {
			t.Fatal(err)
		}
	}
	if c.forbidden {
		client.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if a.GetNamespace() != "autox-system" {
				return false, nil, nil
			}
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, a.(k8stesting.GetAction).GetName(),
				errors.New(`User "dev" cannot get resource "configmaps" in API group "" in the namespace "autox-system"`))
		})
	}
	return pipelineruns.Finder{Dynamic: pipelinerunstest.Dynamic(c.objs...), ConfigMaps: client.CoreV1(), Namespace: pipelinerunstest.Namespace}
}

func TestAssert(t *testing.T) {
	v1 := pr("1.0.0", "0a1b2c3d4e", 100*time.Millisecond, pipelinerunstest.Cancelled)
	v1Done := pr("1.0.0", "0a1b2c3d4e", 100*time.Millisecond, pipelinerunstest.Succeeded)
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Succeeded)
	v2Failed := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Failed)
	v2TimedOut := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.TimedOut)
	conds := []string{"completed", "nofailure", "slos"}
	for _, tc := range []struct {
		name       string
		cluster    func(t *testing.T) cluster
		cfg        assertConfig
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name: "the seed: every condition holds",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v1.PipelineRun(t), v2.PipelineRun(t), v2.TaskRun(t, "", 0)}, results: map[pipelinerunstest.PR]*result.Result{v2: passing(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment completed
experiment has no failure
SLOs are satisfied
all conditions were satisfied
`,
		},
		{
			name: "an SLO does not hold: which, observed and limit",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v1.PipelineRun(t), v2Failed.PipelineRun(t), v2Failed.TaskRun(t, "assess", 1)}, results: map[pipelinerunstest.PR]*result.Result{v2Failed: slow(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment completed
experiment has no failure
SLOs are not satisfied:
  http-get/latency-mean (msec) <= 50: observed 74.997
conditions not satisfied: slos
`,
		},
		{
			name: "a task stopped: which and why",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v2Failed.PipelineRun(t), v2Failed.TaskRun(t, "assess", 3)}, results: map[pipelinerunstest.PR]*result.Result{v2Failed: stopped(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: []string{"nofailure"}},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment has failures:
  http: stopped by SIGTERM after 50 of 200 requests
conditions not satisfied: nofailure
`,
		},
		{
			name: "the ready step failed: no result, the TaskRun says where",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v2Failed.PipelineRun(t), v2Failed.TaskRun(t, "ready", 3)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment completed
experiment has failures:
  task experiment, step ready exited with code 3; its log says why: tkn taskrun logs -n autox autox-httpbin-iter8-5f6a7b8c9d-experiment
cannot tell whether SLOs are satisfied: it failed before its assess step stored one: task experiment, step ready exited with code 3; its log says why: tkn taskrun logs -n autox autox-httpbin-iter8-5f6a7b8c9d-experiment
conditions not satisfied: nofailure, slos
`,
		},
		{
			name: "the latest run was cancelled",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v1.PipelineRun(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-0a1b2c3d4e of autox-httpbin-iter8, version 1.0.0
experiment not completed: cancelled (a newer version superseded it, or the label was removed)
cannot tell whether the experiment has failures: it was cancelled before its assess step stored one
cannot tell whether SLOs are satisfied: it was cancelled before its assess step stored one
conditions not satisfied: completed, nofailure, slos
`,
		},
		{
			name: "Tekton's timeout ended it",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v2TimedOut.PipelineRun(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: []string{"completed"}},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment not completed: Tekton's timeout ended it: PipelineRun "autox-httpbin-iter8-5f6a7b8c9d" failed to finish within "1h0m0s"
conditions not satisfied: completed
`,
		},
		{
			name: "--version picks an earlier version's run",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v1Done.PipelineRun(t), v2Failed.PipelineRun(t)}, results: map[pipelinerunstest.PR]*result.Result{v1Done: passing(t), v2Failed: slow(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: conds, Version: "1.0.0"},
			wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-0a1b2c3d4e of autox-httpbin-iter8, version 1.0.0
experiment completed
experiment has no failure
SLOs are satisfied
all conditions were satisfied
`,
		},
		{
			name: "still running, no -t",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{pr("2.0.0", "5f6a7b8c9d", 0, pipelinerunstest.Running).PipelineRun(t)}}
			},
			cfg:        assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode:   2,
			wantStderr: "autox: -t: not given, and run autox-httpbin-iter8-5f6a7b8c9d (version 2.0.0) of autox-httpbin-iter8 is still running; wait for it with -t 5m\n",
		},
		{
			name: "no run yet, the Trigger names the object",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{pipelinerunstest.Trigger(t, "httpbin", "iter8", "httpbin")}}
			},
			cfg:        assertConfig{Group: "autox-httpbin-iter8", Conditions: conds},
			wantCode:   2,
			wantStderr: "autox: -g: no run yet of autox-httpbin-iter8: is the object labelled? kubectl get deployments.apps httpbin -n default -L app.kubernetes.io/version, and kubectl -n autox logs deploy/autox-interceptor\n",
		},
		{
			name: "no such group",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v2.PipelineRun(t)}}
			},
			cfg:        assertConfig{Group: "autox-x-y", Conditions: conds},
			wantCode:   2,
			wantStderr: "autox: -g: no group autox-x-y; the groups with runs are: autox-httpbin-iter8\n",
		},
		{
			name: "no run of --version",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v1.PipelineRun(t), v2.PipelineRun(t)}}
			},
			cfg:        assertConfig{Group: "autox-httpbin-iter8", Conditions: conds, Version: "3.0.0"},
			wantCode:   2,
			wantStderr: "autox: --version: no run of autox-httpbin-iter8 has version \"3.0.0\"; its versions are: 2.0.0, 1.0.0\n",
		},
		{
			name: "the result ConfigMap is gone",
			cluster: func(t *testing.T) cluster {
				return cluster{objs: []runtime.Object{v2.PipelineRun(t)}}
			},
			cfg:      assertConfig{Group: "autox-httpbin-iter8", Conditions: []string{"completed", "slos"}},
			wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment completed
cannot tell whether SLOs are satisfied: ConfigMap autox/autox-httpbin-iter8-5f6a7b8c9d is gone (it is deleted with its PipelineRun; was it deleted by hand?)
conditions not satisfied: slos
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := assertRun(context.Background(), tc.cfg, tc.cluster(t).finder(t), &stdout, logging.New(&stderr, slog.LevelInfo))
			code := cli.Exit("autox", err, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d (error %v)", code, tc.wantCode, err)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// judgedAgainst1 is passing or slow's result judged against 1.0.0 (as
// regress.Against leaves it): the p99 of get and post's mean, and an
// endpoint the baseline did not have.
func judgedAgainst1(r *result.Result, regressed bool) *result.Result {
	get := result.RegressionVerdict{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 7.94, Candidate: 8.01, Ratio: 1.0088, P: 0.4571, Slower: 0.5}
	if regressed {
		get = result.RegressionVerdict{Metric: "http-get/latency-p99", MaxRatio: 1.1, Baseline: 7.94, Candidate: 109.31, Ratio: 13.767, P: 0, Slower: 1, Regressed: true}
	}
	r.Regression = &result.Regression{Baseline: &result.Baseline{Version: "1.0.0", Run: "autox-httpbin-iter8-0a1b2c3d4e", EndTime: t0}, Alpha: 0.01, Verdicts: []result.RegressionVerdict{
		get,
		{Metric: "http-post/latency-mean", MaxRatio: 1.5, Baseline: 17.5, Candidate: 30.1, Ratio: 1.72, P: 3.2e-9, Slower: 0.8, Regressed: regressed},
		{Metric: "http-put/latency-p99", MaxRatio: 1.2, Unavailable: "the baseline has no endpoint http-put"},
	}}
	r.Regressed = regressed
	return r
}

// TestAssertNoRegression: -c noregression holds unless a metric of the
// stored result regressed against its baseline; without a regression
// section or a baseline there is nothing to be slower than.
// regressedStdout is autox assert -c slos -c noregression on a run of
// 2.0.0 that regressed against 1.0.0 with every SLO held, whether the run
// succeeded (fail-on-violation off) or assess failed it for that.
const regressedStdout = `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
SLOs are satisfied
the experiment regressed against baseline 1.0.0 (run autox-httpbin-iter8-0a1b2c3d4e):
  http-get/latency-p99 is 109.31 msec, 13.77x baseline 1.0.0's 7.94 msec (limit 1.10x, p < 1e-300)
  http-post/latency-mean is 30.10 msec, 1.72x baseline 1.0.0's 17.50 msec (limit 1.50x, p = 3.2e-09)
conditions not satisfied: noregression
`

func TestAssertNoRegression(t *testing.T) {
	v2 := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Succeeded)
	v2Failed := pr("2.0.0", "5f6a7b8c9d", 300*time.Millisecond, pipelinerunstest.Failed)
	for _, tc := range []struct {
		name       string
		run        pipelinerunstest.PR
		result     func(t *testing.T) *result.Result
		conds      []string
		wantCode   int
		wantStdout string
	}{
		{
			// The run succeeded: assess was told not to fail on violations.
			name: "slower than the baseline: each regressed metric, its values, ratio and p; SLOs still hold", run: v2,
			result: func(t *testing.T) *result.Result { return judgedAgainst1(passing(t), true) },
			conds:  []string{"slos", "noregression"}, wantCode: 1,
			wantStdout: regressedStdout,
		},
		{
			// assess failed the run for the regression alone: its SLOs hold.
			name: "the run failed for a regression alone: SLOs hold, the regression is named", run: v2Failed,
			result: func(t *testing.T) *result.Result { return judgedAgainst1(passing(t), true) },
			conds:  []string{"slos", "noregression"}, wantCode: 1,
			wantStdout: regressedStdout,
		},
		{
			name: "within the limits; a metric not judged is named", run: v2,
			result: func(t *testing.T) *result.Result {
				r := judgedAgainst1(passing(t), false)
				r.Regression.Verdicts[1].Ratio, r.Regression.Verdicts[1].Candidate = 1.03, 18.02
				return r
			},
			conds: []string{"noregression"}, wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
no regression against baseline 1.0.0 (run autox-httpbin-iter8-0a1b2c3d4e); not judged:
  http-put/latency-p99 not judged: the baseline has no endpoint http-put
all conditions were satisfied
`,
		},
		{
			name: "no baseline yet: holds, and says why", run: v2,
			result: func(t *testing.T) *result.Result {
				r := passing(t)
				r.Regression = &result.Regression{Note: "no baseline: no earlier version of this group passed", Alpha: 0.01}
				return r
			},
			conds: []string{"noregression"}, wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
no regression: no baseline: no earlier version of this group passed
all conditions were satisfied
`,
		},
		{
			name: "no assess.regression: holds", run: v2, result: passing,
			conds: []string{"noregression"}, wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
no regression: the experiment sets no assess.regression
all conditions were satisfied
`,
		},
		{
			name: "nothing regressed, but the run failed: its result does not count", run: v2Failed,
			result: func(t *testing.T) *result.Result { return judgedAgainst1(passing(t), false) },
			conds:  []string{"noregression"}, wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
cannot tell whether the experiment regressed: PipelineRun autox/autox-httpbin-iter8-5f6a7b8c9d has not succeeded (failed, Failed: Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0); its result counts only once the run succeeds
conditions not satisfied: noregression
`,
		},
		{
			name: "no stored result", run: v2Failed,
			conds: []string{"noregression"}, wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
cannot tell whether the experiment regressed: it failed before its assess step stored one (Failed: Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0)
conditions not satisfied: noregression
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster{objs: []runtime.Object{tc.run.PipelineRun(t)}}
			if tc.result != nil {
				c.results = map[pipelinerunstest.PR]*result.Result{tc.run: tc.result(t)}
			}
			var stdout, stderr bytes.Buffer
			err := assertRun(context.Background(), assertConfig{Group: "autox-httpbin-iter8", Conditions: tc.conds}, c.finder(t), &stdout, logging.New(&stderr, slog.LevelInfo))
			if code := cli.Exit("autox", err, &stderr); code != tc.wantCode {
				t.Errorf("exit %d, want %d (error %v)", code, tc.wantCode, err)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
		})
	}
}

// fakeClock moves on with each sleep; at sleep number finishAt it lets
// the run finish (as Tekton would update it).
type fakeClock struct {
	now              time.Time
	sleeps, finishAt int
	finish           func()
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	c.sleeps++
	if c.sleeps == c.finishAt {
		c.finish()
	}
	return nil
}

// TestAssertWaits: -t waits for a run still going, saying so every ~10 s
// on stderr; a run that does not finish in time fails "completed".
func TestAssertWaits(t *testing.T) {
	running := pr("2.0.0", "5f6a7b8c9d", 0, pipelinerunstest.Running)
	done := pr("2.0.0", "5f6a7b8c9d", 0, pipelinerunstest.Succeeded)
	for _, tc := range []struct {
		name       string
		finishAt   int
		timeout    time.Duration
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name: "finishes within -t", finishAt: 6, timeout: time.Minute, wantCode: 0,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment completed
experiment has no failure
SLOs are satisfied
all conditions were satisfied
`,
			wantStderr: `the run is still going; waiting run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 timeout=1m0s
still running run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 waited=13s
`,
		},
		{
			name: "still running after -t", timeout: 20 * time.Second, wantCode: 1,
			wantStdout: `run autox-httpbin-iter8-5f6a7b8c9d of autox-httpbin-iter8, version 2.0.0
experiment not completed: still running after 20s (-t)
cannot tell whether the experiment has failures: it is still running; its assess step stores the result when the load is done
cannot tell whether SLOs are satisfied: it is still running; its assess step stores the result when the load is done
conditions not satisfied: completed, nofailure, slos
`,
			wantStderr: `the run is still going; waiting run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 timeout=20s
still running run=autox-httpbin-iter8-5f6a7b8c9d version=2.0.0 waited=13s
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dyn := pipelinerunstest.Dynamic(running.PipelineRun(t))
			client := fake.NewClientset()
			clock := &fakeClock{now: t0, finishAt: tc.finishAt, finish: func() {
				pipelinerunstest.Store(t, client, done, passing(t))
				if _, err := dyn.Resource(pipelineruns.PipelineRuns).Namespace("autox").Update(ctx, done.PipelineRun(t), metav1.UpdateOptions{}); err != nil {
					t.Fatal(err)
				}
			}}
			f := pipelineruns.Finder{Dynamic: dyn, ConfigMaps: client.CoreV1(), Namespace: "autox", Now: clock.Now, Sleep: clock.Sleep}
			var stdout, stderr bytes.Buffer
			err := assertRun(ctx, assertConfig{Group: "autox-httpbin-iter8", Conditions: []string{"completed", "nofailure", "slos"}, Timeout: tc.timeout},
				f, &stdout, logging.New(&stderr, slog.LevelInfo))
			if code := cli.Exit("autox", err, &stderr); code != tc.wantCode {
				t.Errorf("exit %d, want %d (error %v)", code, tc.wantCode, err)
			}
			if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantStderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAssertBadInput: flags are checked before the cluster is read; each
// problem names the flag and the fix, exit 2, nothing on stdout.
func TestAssertBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no -g", []string{"-c", "completed"},
			"autox: -g: missing; name the experiment group as autox-<group>-<spec>, e.g. -g autox-httpbin-iter8\n"},
		{"no -c", []string{"-g", "autox-httpbin-iter8"},
			"autox: -c: missing; give the conditions to check: -c completed -c nofailure -c slos -c noregression\n"},
		{"unknown conditions", []string{"-g", "autox-httpbin-iter8", "-c", "complete", "-c", "SLOs,nofailure,latency"},
			"autox: -c: \"complete\" is not a condition; the conditions are completed, nofailure, slos, noregression; did you mean completed?\n" +
				"autox: -c: \"SLOs\" is not a condition; the conditions are completed, nofailure, slos, noregression; did you mean slos?\n" +
				"autox: -c: \"latency\" is not a condition; the conditions are completed, nofailure, slos, noregression\n"},
		{"negative -t", []string{"-g", "autox-httpbin-iter8", "-c", "completed", "-t", "-1m"},
			"autox: -t: \"-1m\" is not a duration within 0s..24h; write one such as 5m\n"},
		{"-t beyond a day", []string{"-g", "autox-httpbin-iter8", "-c", "completed", "-t", "999999999h"},
			"autox: -t: \"999999999h\" is not a duration within 0s..24h; write one such as 5m\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := autox(t, append([]string{"assert"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if diff := cmp.Diff(tc.want, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
