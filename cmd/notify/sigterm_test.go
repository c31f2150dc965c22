// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autox-tekton/autox/internal/cli/clitest"
)

// TestSIGTERM stops the built notify command while the webhook has not
// answered, as Tekton does on cancel and timeout: it must end within 5s,
// exit 3, and say so naming the webhook's host, not its URL.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/notify")
	// The API server has no result ConfigMap: the ready step failed.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"configmaps %q not found","details":{"name":%q,"kind":"configmaps"}}`, filepath.Base(r.URL.Path), filepath.Base(r.URL.Path))
	}))
	t.Cleanup(api.Close)
	var posts atomic.Int32
	hang := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		posts.Add(1)
		<-hang
	}))
	t.Cleanup(func() { close(hang); hook.Close() })
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	clitest.WriteFile(t, kubeconfig, fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: test, cluster: {server: %q}}]\nusers: [{name: test, user: {token: test-token}}]\ncontexts: [{name: test, context: {cluster: test, user: test}}]\ncurrent-context: test\n", api.URL))

	p := clitest.Start(t, bin, []string{
		"KUBECONFIG=" + kubeconfig, "AUTOX_NOTIFY_SECRET_url=x", "AUTOX_NOTIFY_URL=" + hook.URL + "/services/secret",
		"AUTOX_PIPELINERUN=run-1", "AUTOX_NAMESPACE=autox", "AUTOX_EXPERIMENT_STATUS=Failed", "AUTOX_EXPERIMENT_REASON=Failed",
	})
	p.WaitFor(t, "the notification at the webhook", 10*time.Second, func() bool { return posts.Load() > 0 })

	code, took := p.Terminate(t, 5*time.Second)
	host := strings.TrimPrefix(hook.URL, "http://")
	want := "notify: stopped (terminated signal received) while sending the notification to the webhook at " + host + "; it may not have arrived\n"
	if code != 3 || took > 5*time.Second || p.Stderr() != want {
		t.Errorf("after SIGTERM: exit %d after %s, stderr %q\nwant exit 3 within 5s, %q", code, took.Round(time.Millisecond), p.Stderr(), want)
	}
	wantOut := "ERROR run-1: the experiment task failed (Failed)\n- no result: no ConfigMap autox/run-1 (the experiment ended before assess stored one)\nPipelineRun run-1 in namespace autox\n"
	if p.Stdout() != wantOut {
		t.Errorf("stdout %q; want %q", p.Stdout(), wantOut)
	}
}
