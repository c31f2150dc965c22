// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/cli/clitest"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// TestWorkerFlag: as pods do, steps told -worker 1/4, 2/4 and 4/4 each
// send their share (3, 3, 2 of 10; AUTOX_WORKER is the same flag) and
// write their own file, saying which worker they are; a missing worker 3
// is what assess names.
func TestWorkerFlag(t *testing.T) {
	a := app.New()
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http]\nhttp: {url: "+srv.URL+"/get, numRequests: 10, qps: unlimited, workers: 4}\n")
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-worker", "1/4"}, nil},
		{nil, map[string]string{"AUTOX_WORKER": "2/4"}},
		{[]string{"-worker", "4/4", "-start-at", time.Now().Add(50 * time.Millisecond).UTC().Format(time.RFC3339Nano)}, nil},
	} {
		var errs bytes.Buffer
		m := map[string]string{"AUTOX_EXPERIMENT_FILE": exp, "AUTOX_DIR": dir}
		for k, v := range tc.env {
			m[k] = v
		}
		if code := cli.Exit("http", runHTTP(context.Background(), tc.args, &errs, env(m)), &errs); code != 0 {
			t.Fatalf("%v %v: exit %d; stderr:\n%s", tc.args, tc.env, code, errs.String())
		}
	}
	type file struct {
		Worker   metrics.Worker
		Requests int64
	}
	var got []file
	for _, i := range []int{1, 2, 4} {
		f, err := metrics.Read(metrics.Worker{Index: i, Of: 4}.Path(dir, "http"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, file{*f.Worker, f.Endpoints[0].RequestCount})
	}
	want := []file{{metrics.Worker{Index: 1, Of: 4}, 3}, {metrics.Worker{Index: 2, Of: 4}, 3}, {metrics.Worker{Index: 4, Of: 4}, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("worker files (-want +got):\n%s", diff)
	}
	if n := a.Count("/get"); n != 8 {
		t.Errorf("server counted %d, want 8", n)
	}
	files, err := metrics.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := files["http"].Failed, "worker 3 of 4 wrote no metrics (its pod failed or never ran)"; got != want {
		t.Errorf("merged Failed %q, want %q", got, want)
	}
}

// TestWorkerFlagBadInput: -worker and -start-at errors name the flag.
func TestWorkerFlagBadInput(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.yaml")
	clitest.WriteFile(t, exp, "tasks: [http]\nhttp: {url: http://127.0.0.1:1/get, numRequests: 10, workers: 4}\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not i/N", []string{"-worker", "5/4"}, `http: -worker: "5/4" is not i/N with 1 <= i <= N <= 64; write e.g. 3/4 (the third of 4 workers)`},
		{"N is not the experiment's", []string{"-worker", "1/2"}, `http: http.workers: "4" does not match -worker 1/2; pass -worker i/4, or set http.workers: 2`},
		{"start far ahead", []string{"-start-at", "2999-01-01T00:00:00Z"}, `http: -start-at: "2999-01-01T00:00:00Z" is `},
		{"start not a time", []string{"-start-at", "soon"}, `http: -start-at: "soon" is not an RFC 3339 time; write e.g. 2026-12-05T03:00:00Z`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs bytes.Buffer
			args := append([]string{"-f", exp, "-dir", dir}, tc.args...)
			code := cli.Exit("http", runHTTP(context.Background(), args, &errs, env(nil)), &errs)
			if code != 2 || !strings.HasPrefix(errs.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs.String(), tc.want)
			}
		})
	}
}
