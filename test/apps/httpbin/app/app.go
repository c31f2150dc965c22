// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package app is a small httpbin: the endpoints autox's tests and demo
// load, with httpbin's behaviour, and a count of the requests each path
// received so tests can compare what the server saw with what was measured.
package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server serves /get, /anything, /post, /status/{code} and /delay/{ms},
// and GET /counts: the requests each path received (itself left out), as
// JSON, so a test in a cluster can ask the app what reached it.
type Server struct {
	mux    *http.ServeMux
	mu     sync.Mutex
	counts map[string]int64
}

// New returns a Server with zero counts.
func New() *Server {
	s := &Server{mux: http.NewServeMux(), counts: map[string]int64{}}
	s.mux.HandleFunc("GET /get", s.echo)
	s.mux.HandleFunc("/anything", s.echo)
	s.mux.HandleFunc("/anything/{rest...}", s.echo)
	s.mux.HandleFunc("POST /post", s.echo)
	s.mux.HandleFunc("/status/{code}", s.status)
	s.mux.HandleFunc("/delay/{ms}", s.delay)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("GET /counts", s.countsJSON)
	return s
}

// ServeHTTP counts the request by path, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/counts" {
		s.mu.Lock()
		s.counts[r.URL.Path]++
		s.mu.Unlock()
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) countsJSON(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	b, err := json.Marshal(s.counts)
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// Count is how many requests path has received.
func (s *Server) Count(path string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

type echoed struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Args    map[string][]string `json:"args"`
	Headers map[string]string   `json:"headers"`
	Origin  string              `json:"origin"`
	Data    string              `json:"data,omitempty"`
	JSON    any                 `json:"json,omitempty"`
}

// echo answers like httpbin: the request's method, args, headers and body.
func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e := echoed{Method: r.Method, URL: r.URL.String(), Args: r.URL.Query(), Headers: map[string]string{}, Origin: r.RemoteAddr, Data: string(body)}
	for k := range r.Header {
		e.Headers[k] = r.Header.Get(k)
	}
	var js any
	if json.Unmarshal(body, &js) == nil {
		e.JSON = js
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(e)
}

// status answers with the status code in the path.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 100 || code > 599 {
		http.Error(w, "status must be a number from 100 to 599", http.StatusBadRequest)
		return
	}
	w.WriteHeader(code)
}

// delay waits the milliseconds in the path, then echoes.
func (s *Server) delay(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.PathValue("ms"))
	if err != nil || ms < 0 || ms > 60_000 {
		http.Error(w, "delay must be 0 to 60000 milliseconds", http.StatusBadRequest)
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	s.echo(w, r)
}
