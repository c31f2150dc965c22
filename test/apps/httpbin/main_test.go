// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/autox-tekton/autox/test/apps/httpbin/app"
)

// TestSlower: -latency delays every answer by at least its value; 0
// leaves the app as it is.
func TestSlower(t *testing.T) {
	for _, latency := range []time.Duration{0, 60 * time.Millisecond} {
		srv := httptest.NewServer(slower(app.New(), latency))
		start := time.Now()
		resp, err := http.Get(srv.URL + "/get")
		took := time.Since(start)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || took < latency || (latency == 0 && took > 50*time.Millisecond) {
			t.Errorf("latency %s: HTTP %d after %s", latency, resp.StatusCode, took)
		}
	}
}
