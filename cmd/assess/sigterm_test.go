// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autox-tekton/autox/internal/cli/clitest"
)

// TestSIGTERM stops the built assess command while it reads a metrics
// file that never ends (a FIFO no one writes), as Tekton does on cancel
// and timeout: it must end within 5s, exit 3, say so, and leave the folder
// as it was: no result, no report, no temporary file.
func TestSIGTERM(t *testing.T) {
	bin := clitest.Build(t, "github.com/autox-tekton/autox/cmd/assess")
	dir := t.TempDir()
	exp := filepath.Join(dir, "experiment.yaml")
	clitest.WriteFile(t, exp, "tasks: [http, assess]\nhttp: {url: http://127.0.0.1:1/}\nassess: {SLOs: {upper: {http/error-count: 0}}}\n")
	fifo := filepath.Join(dir, "http.metrics.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	p := clitest.Start(t, bin, nil, "-f", exp, "-dir", dir)
	// Opening a FIFO to write, without blocking, succeeds once a reader
	// has it open: then assess is in its read, which waits for data that
	// never comes while this end stays open.
	var writer *os.File
	p.WaitFor(t, "assess reading the metrics", 10*time.Second, func() bool {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		writer = f
		return err == nil
	})
	defer writer.Close()

	code, took := p.Terminate(t, 5*time.Second)
	want := "assess: stopped (terminated signal received) before the assessment ended; result.json, report.txt and report.html are each whole or absent\n"
	if code != 3 || took > 5*time.Second || p.Stderr() != want {
		t.Errorf("after SIGTERM: exit %d after %s, stderr %q\nwant exit 3 within 5s, %q", code, took.Round(time.Millisecond), p.Stderr(), want)
	}
	if p.Stdout() != "" {
		t.Errorf("a stopped assess printed a report:\n%s", p.Stdout())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"experiment.yaml", "http.metrics.json"}, names); diff != "" {
		t.Errorf("folder after a stopped assess (-want +got):\n%s", diff)
	}
}
