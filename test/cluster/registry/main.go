// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command registry serves an OCI registry on a loopback address for the
// test cluster: go-containerregistry's registry (what `crane registry
// serve` runs), its blobs on disk (the library's disk blob handler), and
// its manifests kept in memory as the library does, plus a journal on disk
// of every manifest pushed, replayed in order at start. So what was pushed
// before a restart is served after it, and a warm bring-up pushes nothing.
//
// With -read-addr it also serves reads (GET and HEAD, nothing else) on a
// private address of this machine, the CNI bridge's: Tekton's bundles
// resolver runs in a pod, whose 127.0.0.1 is its own. The bridge appears
// with the first pod, so that address is bound when it exists.
//
//	registry -addr 127.0.0.1:10290 -dir .cluster/cache/registry [-read-addr 10.88.0.1:10290]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:10290", "loopback address to listen on")
	dir := fs.String("dir", "", "storage folder (blobs/ and manifests.jsonl)")
	readAddr := fs.String("read-addr", "", "also serve GET and HEAD (no pushes) on this private address, once it exists (the CNI bridge's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-dir is required: the folder that keeps the registry's blobs and manifests")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v; write host:port, e.g. 127.0.0.1:10290", *addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: not a loopback address; write e.g. 127.0.0.1:10290", *addr)
	}
	if *readAddr != "" {
		rhost, _, err := net.SplitHostPort(*readAddr)
		if ip := net.ParseIP(rhost); err != nil || ip == nil || !(ip.IsPrivate() || ip.IsLoopback()) {
			return fmt.Errorf("-read-addr %q: not a private host:port of this machine; write e.g. 10.88.0.1:10290 (the CNI bridge's address)", *readAddr)
		}
	}
	h, n, err := newHandler(*dir)
	if err != nil {
		return err
	}
	if *readAddr != "" {
		go serveReads(ctx, *readAddr, h)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log.Printf("serving %s from %s (%d manifests replayed)", *addr, *dir, n)
	// No read or write timeout: a layer of a few hundred MB may take a while
	// on a busy machine; the headers and idle connections are bounded.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveReads serves GET and HEAD of h on addr, binding it as soon as the
// address exists on this machine (retried each second until ctx ends).
func serveReads(ctx context.Context, addr string, h http.Handler) {
	var ln net.Listener
	for {
		var err error
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	log.Printf("serving reads on %s", addr)
	ro := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "read-only address: push to the loopback one", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: ro, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Printf("reads on %s: %v", addr, err)
	}
}

// entry is one manifest PUT, as the journal keeps it.
type entry struct {
	Path        string `json:"path"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

// journaled records every accepted manifest PUT before answering it.
type journaled struct {
	next http.Handler
	mu   sync.Mutex
	file *os.File
}

// newHandler replays the journal in dir into a fresh registry and returns
// a handler that appends to it; n is the number of manifests replayed.
func newHandler(dir string) (h http.Handler, n int, err error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		return nil, 0, err
	}
	reg := registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(filepath.Join(dir, "blobs"))),
		registry.Logger(log.New(io.Discard, "", 0)))
	path := filepath.Join(dir, "manifests.jsonl")
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var e entry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				f.Close()
				return nil, 0, fmt.Errorf("%s line %d: %v; remove the folder %s to start empty", path, n+1, err, dir)
			}
			req := httptest.NewRequest(http.MethodPut, e.Path, bytes.NewReader(e.Body))
			req.Header.Set("Content-Type", e.ContentType)
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				f.Close()
				return nil, 0, fmt.Errorf("%s line %d: replaying %s got %d %s", path, n+1, e.Path, rec.Code, rec.Body)
			}
			n++
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, 0, err
		}
	} else if !os.IsNotExist(err) {
		return nil, 0, err
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, 0, err
	}
	return &journaled{next: reg, file: file}, n, nil
}

func (j *journaled) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/manifests/") {
		j.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	// One manifest PUT at a time, journaled before the next is accepted:
	// an index is journaled after the manifests it names.
	j.mu.Lock()
	j.next.ServeHTTP(rec, r)
	if rec.Code == http.StatusCreated {
		var line []byte
		line, err = json.Marshal(entry{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body})
		if err == nil {
			_, err = j.file.Write(append(line, '\n'))
		}
		if err == nil {
			err = j.file.Sync()
		}
	}
	j.mu.Unlock()
	if err != nil {
		http.Error(w, "journal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
