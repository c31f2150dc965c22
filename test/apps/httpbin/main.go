// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command httpbin serves the sample app autox's tests and demo load.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/autox-tekton/autox/test/apps/httpbin/app"
	"github.com/autox-tekton/autox/test/apps/serve"
	"github.com/autox-tekton/autox/test/apps/stall"
)

func main() {
	fs := flag.NewFlagSet("httpbin", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (env HTTPBIN_ADDR)")
	latency := fs.Duration("latency", 0, "added to every answer: a slower version of the app, for tests whose SLOs must not hold")
	stallEvery := fs.Duration("stall-every", 0, "with -stall-for: stop answering for -stall-for at the start of every -stall-every (the fixed-rate benchmark's server)")
	stallFor := fs.Duration("stall-for", 0, "how long each stall lasts (see -stall-every)")
	fs.Parse(os.Args[1:])
	if v := os.Getenv("HTTPBIN_ADDR"); v != "" && !isSet(fs, "addr") {
		*addr = v
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve.HTTP(ctx, "httpbin", *addr, stall.New(*stallEvery, *stallFor).Handler(slower(app.New(), *latency)), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httpbin:", err)
		os.Exit(1)
	}
}

// slower answers each request after latency (at once when it is 0).
func slower(h http.Handler, latency time.Duration) http.Handler {
	if latency <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(latency):
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
