// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCounts(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	counts := func() map[string]int64 {
		t.Helper()
		resp := get("/counts")
		defer resp.Body.Close()
		var m map[string]int64
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if diff := cmp.Diff(map[string]int64{}, counts()); diff != "" {
		t.Errorf("counts before any request (-want +got):\n%s", diff)
	}
	for _, p := range []string{"/get", "/get", "/anything/x", "/status/503"} {
		get(p).Body.Close()
	}
	want := map[string]int64{"/get": 2, "/anything/x": 1, "/status/503": 1}
	if diff := cmp.Diff(want, counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestArrivals(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	before := time.Now()
	for range 3 {
		resp, err := http.Get(srv.URL + "/get")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(srv.URL + "/arrivals")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]Arrivals
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	a := m["/get"]
	if len(m) != 1 || a.Count != 3 || a.First.Before(before) || a.Last.Sub(a.First) < 40*time.Millisecond || a.Last.After(time.Now()) {
		t.Errorf("arrivals %+v; want /get only, 3 requests over at least 40ms", m)
	}
	if n := a.Between(before.Add(-Tick), time.Now().Add(Tick)); n != 3 {
		t.Errorf("%d arrivals counted by tick around the requests, want 3 (ticks %v)", n, a.Ticks)
	}
	if n := a.Between(time.Now().Add(time.Second), time.Now().Add(2*time.Second)); n != 0 {
		t.Errorf("%d arrivals counted in a second to come", n)
	}
}
