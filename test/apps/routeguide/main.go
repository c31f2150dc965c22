// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command routeguide serves the sample routeguide gRPC service (with
// reflection) that autox's tests and demo load. With -files-addr it also
// serves, over HTTP, what the seed's experiment fetches by URL: its proto
// (/route_guide.proto) and payloads (/unary.json, /server.json), so that
// the experiment runs unchanged but for the host in a cluster with no way out.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/autox-tekton/autox/test/apps/routeguide/app"
	"github.com/autox-tekton/autox/test/apps/stall"
	payloads "github.com/autox-tekton/autox/test/data/grpc"
)

func main() {
	fs := flag.NewFlagSet("routeguide", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:50051", "listen address (env ROUTEGUIDE_ADDR)")
	filesAddr := fs.String("files-addr", "", "if set, serve the proto and the seed's payloads over HTTP there (env ROUTEGUIDE_FILES_ADDR)")
	stallEvery := fs.Duration("stall-every", 0, "with -stall-for: hold every call for -stall-for at the start of every -stall-every (the fixed-rate benchmark's server)")
	stallFor := fs.Duration("stall-for", 0, "how long each stall lasts (see -stall-every)")
	fs.Parse(os.Args[1:])
	fromEnv(fs, "addr", "ROUTEGUIDE_ADDR", addr)
	fromEnv(fs, "files-addr", "ROUTEGUIDE_FILES_ADDR", filesAddr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *filesAddr != "" {
		if err := serveFiles(ctx, *filesAddr); err != nil {
			fmt.Fprintln(os.Stderr, "routeguide:", err)
			os.Exit(1)
		}
	}
	if err := serve(ctx, *addr, stall.New(*stallEvery, *stallFor).ServerOptions()...); err != nil {
		fmt.Fprintln(os.Stderr, "routeguide:", err)
		os.Exit(1)
	}
}

// fromEnv sets *v from the environment variable env unless the flag was given.
func fromEnv(fs *flag.FlagSet, name, env string, v *string) {
	e := os.Getenv(env)
	if e == "" {
		return
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	if !set {
		*v = e
	}
}

// serveFiles serves the proto and the payloads at addr until ctx ends.
func serveFiles(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+app.ProtoName, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, app.Proto)
	})
	mux.Handle("GET /", http.FileServerFS(payloads.Files))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("routeguide files on http://%s/ (%s, unary.json, server.json)\n", ln.Addr(), app.ProtoName)
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return nil
}

func serve(ctx context.Context, addr string, opts ...grpc.ServerOption) error {
	s, err := app.New(opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("routeguide listening on %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		s.GRPC.GracefulStop()
	}()
	return s.GRPC.Serve(ln)
}
