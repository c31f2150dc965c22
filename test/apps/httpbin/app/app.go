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
//
// GET /arrivals adds when each path's first and last request arrived and
// how many arrived in each 100 ms (by Unix time), so a test can measure
// the rate the server saw over any stretch of a run.
type Server struct {
	mux         *http.ServeMux
	mu          sync.Mutex
	counts      map[string]int64
	first, last map[string]time.Time
	ticks       map[string]map[int64]int64
}

// Tick is the width of the /arrivals counts.
const Tick = 100 * time.Millisecond

// New returns a Server with zero counts.
func New() *Server {
	s := &Server{mux: http.NewServeMux(), counts: map[string]int64{}, first: map[string]time.Time{}, last: map[string]time.Time{}, ticks: map[string]map[int64]int64{}}
	s.mux.HandleFunc("GET /get", s.echo)
	s.mux.HandleFunc("/anything", s.echo)
	s.mux.HandleFunc("/anything/{rest...}", s.echo)
	s.mux.HandleFunc("POST /post", s.echo)
	s.mux.HandleFunc("/status/{code}", s.status)
	s.mux.HandleFunc("/delay/{ms}", s.delay)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("GET /counts", s.countsJSON)
	s.mux.HandleFunc("GET /arrivals", s.arrivalsJSON)
	return s
}

// ServeHTTP counts the request by path, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/counts" && r.URL.Path != "/arrivals" {
		now := time.Now()
		s.mu.Lock()
		s.counts[r.URL.Path]++
		if s.first[r.URL.Path].IsZero() {
			s.first[r.URL.Path] = now
		}
		s.last[r.URL.Path] = now
		if s.ticks[r.URL.Path] == nil {
			s.ticks[r.URL.Path] = map[int64]int64{}
		}
		s.ticks[r.URL.Path][now.UnixMilli()/Tick.Milliseconds()]++
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

// Arrivals is what GET /arrivals says of one path.
type Arrivals struct {
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Ticks are the arrivals in each Tick, by Unix milliseconds / 100.
	Ticks map[int64]int64 `json:"ticks"`
}

// Between is how many arrived from a up to b, counted by whole ticks.
func (a Arrivals) Between(from, to time.Time) int64 {
	var n int64
	for tick, c := range a.Ticks {
		if at := time.UnixMilli(tick * Tick.Milliseconds()); !at.Before(from) && at.Before(to) {
			n += c
		}
	}
	return n
}

func (s *Server) arrivalsJSON(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := map[string]Arrivals{}
	for path, n := range s.counts {
		ticks := map[int64]int64{}
		for k, v := range s.ticks[path] {
			ticks[k] = v
		}
		out[path] = Arrivals{Count: n, First: s.first[path], Last: s.last[path], Ticks: ticks}
	}
	b, err := json.Marshal(out)
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
