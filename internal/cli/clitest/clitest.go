// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package clitest builds an autox command and runs it as a process, as
// Tekton does, so that tests can signal it and read how it ended.
package clitest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the command at importPath (e.g.
// github.com/autox-tekton/autox/cmd/http) into a temporary folder and
// returns the binary's path.
func Build(t *testing.T, importPath string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(importPath))
	out, err := exec.Command("go", "build", "-o", bin, importPath).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", importPath, err, out)
	}
	return bin
}

// Proc is a running command.
type Proc struct {
	cmd            *exec.Cmd
	stdout, stderr buffer
	done           chan struct{}
	err            error
}

// Start runs bin with args and exactly env (nothing inherited). The
// process is killed, by its PID, when the test ends if it still runs.
func Start(t *testing.T, bin string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = append([]string{}, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Stderr is what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Stdout is what the process wrote to stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// WaitFor polls cond until it holds; the test fails if it does not within
// timeout or the process ends first.
func (p *Proc) WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("process ended (%v) before %s\nstderr:\n%s", p.err, what, p.Stderr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s\nstderr:\n%s", what, timeout, p.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Wait waits up to limit for the process to end by itself and returns
// its exit status; the test fails if it outlives limit (it is then killed).
func (p *Proc) Wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("still running after %s; killed it\nstderr:\n%s", limit, p.Stderr())
	}
	return p.cmd.ProcessState.ExitCode()
}

// Terminate sends SIGTERM, as Tekton does on cancel and timeout, and waits
// up to limit for the process to end. It returns the exit status (-1 if
// a signal killed it) and how long it took; the test fails if the process
// outlives limit (it is then killed).
func (p *Proc) Terminate(t *testing.T, limit time.Duration) (code int, took time.Duration) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("still running %s after SIGTERM; killed it\nstderr:\n%s", limit, p.Stderr())
	}
	took = time.Since(start)
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		t.Fatalf("waiting for the process: %v", p.err)
	}
	return p.cmd.ProcessState.ExitCode(), took
}

// LastLine is the last line of s, with its newline.
func LastLine(s string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1] + "\n"
}

// NoPanic fails the test if stderr shows a panic or a goroutine dump.
func NoPanic(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("stderr shows a panic:\n%s", stderr)
	}
}

// buffer is a bytes.Buffer the process writes while the test reads.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WriteFile writes content to path, failing the test if it cannot.
func WriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
