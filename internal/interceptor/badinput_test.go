// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package interceptor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/autox-tekton/autox/internal/contract"
	"github.com/autox-tekton/autox/internal/decide"
)

// TestProcess_BadInputChangesNothing: a version that could not be a run's
// label (a newline, 100k characters, invalid UTF-8), whether the event
// claims it or the object carries it, an event with trailing garbage and
// an event whose kind only starts like the Trigger's resource: each is
// refused with its reason before anything is decided, and the run going
// is not cancelled nor the record written.
func TestProcess_BadInputChangesNothing(t *testing.T) {
	const rule = "is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit)"
	const notALabel = "the object's label app.kubernetes.io/version: %s " + rule + ", so it cannot be a run's label: nothing launched or cancelled, the record left as it is; label the object with a valid version"
	long := strings.Repeat("9", 100_000)
	going := []contract.Entry{{Seq: 1, Run: run(1), Version: "1.0.0", ObjectUID: "dep-1", DecidedAt: t0.Add(-time.Minute), RunUID: "r1", State: contract.Running}}
	for _, tc := range []struct {
		name     string
		obj      decide.Object
		body     string
		wantCode codes.Code
		wantMsg  string
	}{
		{"the object's version has a newline", dep("2.0.0\n"), body(t, "update", "autox-httpbin-iter8", "2.0.0"),
			codes.FailedPrecondition, strings.Replace(notALabel, "%s", `"2.0.0\n"`, 1)},
		{"the object's version is 100k characters", dep(long), body(t, "update", "autox-httpbin-iter8", "2.0.0"),
			codes.FailedPrecondition, strings.Replace(notALabel, "%s", `"`+long[:64]+`"... (100000 bytes)`, 1)},
		{"the object's version is invalid UTF-8", dep("2.0.0\xff"), body(t, "update", "autox-httpbin-iter8", "2.0.0"),
			codes.FailedPrecondition, strings.Replace(notALabel, "%s", `"2.0.0\xff"`, 1)},
		{"the event claims a version with a newline", dep("1.0.0"), body(t, "update", "autox-httpbin-iter8", "2.0.0\n"),
			codes.InvalidArgument, `body: object.metadata.labels[app.kubernetes.io/version]: "2.0.0\n" ` + rule + "; send the object as the API server serves it"},
		{"trailing garbage after the event", dep("2.0.0"), body(t, "update", "autox-httpbin-iter8", "2.0.0") + "}garbage",
			codes.InvalidArgument, "body: more follows the JSON object, which ends at byte 238; send one object"},
		{"kind D", dep("2.0.0"), strings.Replace(body(t, "update", "autox-httpbin-iter8", "2.0.0"), `"kind":"Deployment"`, `"kind":"D"`, 1),
			codes.FailedPrecondition, `the event is about apps/v1 D default/httpbin, not Trigger autox-httpbin-iter8's object apps/v1 deployments default/httpbin (kind "D" is not the kind of deployments: its lower-case form plus s, es or (for a y) ies must be "deployments", e.g. Deployment); nothing to do`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.objects.both(tc.obj)
			before := StoredRecord{Record: contract.Record{Group: "httpbin", Spec: "iter8", Trigger: "autox-httpbin-iter8", TriggerUID: "tr-1", Seq: 1, Runs: going}, UID: "rec-1", ResourceVersion: "1"}
			stored := before
			f.records.rec, f.records.rv = &stored, 1
			got := f.interceptor.Process(context.Background(), request(tc.body))
			if got.Continue {
				t.Fatalf("continued: %+v", got.Extensions)
			}
			if got.Status.Code != tc.wantCode || got.Status.Message != tc.wantMsg {
				t.Errorf("status %s %q\nwant %s %q", got.Status.Code, got.Status.Message, tc.wantCode, tc.wantMsg)
			}
			if len(f.canceller.cancelled) > 0 {
				t.Errorf("cancelled %v, want nothing", f.canceller.cancelled)
			}
			if diff := cmp.Diff(before, *f.records.rec); f.records.writes > 0 || diff != "" {
				t.Errorf("%d record writes (-before +after):\n%s", f.records.writes, diff)
			}
		})
	}
}

// TestProcess_AnApiServerSourceObjectNoClusterHolds: an ApiServerSource
// event is checked as the watcher's is, before anything is decided.
func TestProcess_AnApiServerSourceObjectNoClusterHolds(t *testing.T) {
	b, header := recorded(t)
	b = strings.Replace(b, `"app.kubernetes.io/version":"2.0.0"`, `"app.kubernetes.io/version":"2.0.0\n"`, 1)
	f := newFixture(t)
	f.objects.both(dep("2.0.0"))
	req := request(b)
	req.Header = header
	got := f.interceptor.Process(context.Background(), req)
	want := `body.metadata.labels[app.kubernetes.io/version]: "2.0.0\n" is not a valid label value (at most 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit); send the object as the API server serves it`
	if got.Continue || got.Status.Code != codes.InvalidArgument || got.Status.Message != want {
		t.Errorf("status %s %q, continue %v\nwant InvalidArgument %q", got.Status.Code, got.Status.Message, got.Continue, want)
	}
	if f.records.rec != nil || len(f.canceller.cancelled) > 0 {
		t.Errorf("record %+v, cancelled %v: want nothing done", f.records.rec, f.canceller.cancelled)
	}
}
