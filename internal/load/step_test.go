// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/metrics"
)

// TestSave: what a load step writes and says, by how its load ended.
func TestSave(t *testing.T) {
	sigterm := errors.New("terminated signal received")
	stopped, stop := context.WithCancelCause(context.Background())
	stop(sigterm)
	measured := func() *metrics.File {
		return &metrics.File{Task: "http", StartTime: time.Unix(0, 0).UTC(), EndTime: time.Unix(1, 0).UTC()}
	}
	type got struct {
		Err     string
		Written bool
	}
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		f      *metrics.File
		runErr error
		want   got
	}{
		{"done", context.Background(), measured(), nil, got{Written: true}},
		{"stopped, with what was measured", stopped, measured(), sigterm, got{Err: "stopped (terminated signal received); wrote what was measured until then to DIR/http.metrics.json", Written: true}},
		{"stopped, without metrics", stopped, nil, sigterm, got{Err: "stopped (terminated signal received); the load returned no metrics, so no DIR/http.metrics.json was written"}},
		{"failed", context.Background(), nil, errors.New("http-get: reading hey's report: EOF"), got{Err: "http-get: reading hey's report: EOF"}},
		{"no metrics and no error", context.Background(), nil, nil, got{Err: "the http load returned no metrics and no error; no DIR/http.metrics.json was written"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var g got
			if err := Save(tc.ctx, "http", dir, tc.f, tc.runErr); err != nil {
				g.Err = err.Error()
				if tc.ctx.Err() != nil && !errors.Is(err, sigterm) {
					t.Errorf("the error of a stopped load does not wrap the stop's cause: %v", err)
				}
			}
			if _, err := metrics.Read(metrics.PathFor(dir, experiment.TaskHTTP)); err == nil {
				g.Written = true
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("metrics file unreadable: %v", err)
			}
			tc.want.Err = strings.Replace(tc.want.Err, "DIR", dir, 1)
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopped(t *testing.T) {
	stopped, stop := context.WithCancelCause(context.Background())
	stop(errors.New("interrupt signal received"))
	fetch := badinput.Field("http.payloadURL", `cannot fetch "http://127.0.0.1:1/p": context canceled`)
	if got, want := Stopped(stopped, fetch).Error(), "stopped (interrupt signal received) while preparing the endpoints; no load was sent"; got != want {
		t.Errorf("Stopped = %q, want %q", got, want)
	}
	if badinput.Is(Stopped(stopped, fetch)) {
		t.Error("a stop while preparing is reported as bad input (exit 2)")
	}
	if got := Stopped(context.Background(), fetch); got != error(fetch) {
		t.Errorf("Stopped without a stop = %v, want the error itself", got)
	}
}

// TestHoldForReady: a load task listed after ready sends load only when
// ready recorded that it completed; otherwise it records why it sent
// none, in one log line and in its metrics file, and does not fail.
func TestHoldForReady(t *testing.T) {
	type got struct {
		Held   bool
		Failed string // of the task's metrics file; "-" when none was written
		Log    string
	}
	for _, tc := range []struct {
		name  string
		tasks []string
		// ready is ready.metrics.json's content; "" writes none.
		ready string
		want  got
	}{{
		name:  "ready not listed",
		tasks: []string{"http", "assess"},
		want:  got{Failed: "-"},
	}, {
		name:  "ready listed after the load: not run yet",
		tasks: []string{"http", "ready", "assess"},
		want:  got{Failed: "-"},
	}, {
		name:  "ready completed",
		tasks: []string{"ready", "http", "assess"},
		ready: `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null}`,
		want:  got{Failed: "-"},
	}, {
		name:  "ready failed",
		tasks: []string{"ready", "http", "assess"},
		ready: `{"version": "autox.dev/metrics/v1", "task": "ready", "endpoints": null, "failed": "not ready: deployment shop/web: Available=False (MinimumReplicasUnavailable) after 1s"}`,
		want: got{Held: true, Failed: "no load sent: the ready task failed",
			Log: "::warning::http: no load sent: the ready task failed; assess reports it\n"},
	}, {
		name:  "ready did not finish",
		tasks: []string{"ready", "http", "assess"},
		want: got{Held: true, Failed: "no load sent: the ready task did not finish (no DIR/ready.metrics.json)",
			Log: "::warning::http: no load sent: the ready task did not finish (no DIR/ready.metrics.json); assess reports it\n"},
	}, {
		name:  "ready's record unreadable",
		tasks: []string{"ready", "http", "assess"},
		ready: `{"version": "autox.dev/metrics/v0"}`,
		want: got{Held: true, Failed: `no load sent: the ready task's record cannot be read: DIR/ready.metrics.json has version "autox.dev/metrics/v0", this autox reads "autox.dev/metrics/v1"; run the load step and assess from the same release`,
			Log: `::warning::http: no load sent: the ready task's record cannot be read: DIR/ready.metrics.json has version "autox.dev/metrics/v0", this autox reads "autox.dev/metrics/v1"; run the load step and assess from the same release; assess reports it` + "\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.ready != "" {
				if err := os.WriteFile(metrics.PathFor(dir, experiment.TaskReady), []byte(tc.ready), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var log strings.Builder
			held, err := HoldForReady(&experiment.Experiment{Tasks: tc.tasks}, experiment.TaskHTTP, dir, logging.New(&log, slog.LevelInfo))
			if err != nil {
				t.Fatal(err)
			}
			g := got{Held: held, Failed: "-", Log: log.String()}
			if f, err := metrics.Read(metrics.PathFor(dir, experiment.TaskHTTP)); err == nil {
				g.Failed = f.Failed
				if len(f.Endpoints) != 0 {
					t.Errorf("a held load wrote endpoints: %v", f.Endpoints)
				}
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Errorf("metrics file unreadable: %v", err)
			}
			for _, s := range []*string{&tc.want.Failed, &tc.want.Log} {
				*s = strings.ReplaceAll(*s, "DIR", dir)
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
