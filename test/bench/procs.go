// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Processes of the suite: servers on the server core, load generators on
// the client core, each its own process (taskset -c), started and
// stopped by PID.

var listening = regexp.MustCompile(`listening on (\S+)`)

// server is a process pinned to the server core that printed the address
// it listens on ("... listening on 127.0.0.1:PORT").
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  bytes.Buffer
}

// startServer starts path args... on core and waits (up to 10s) for its
// address.
func startServer(ctx context.Context, core, path string, args ...string) (*server, error) {
	cmd := exec.Command("taskset", append([]string{"-c", core, path}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{name: path, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{s: s}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.write(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case s.addr = <-addr:
		return s, nil
	case <-s.done:
		s.stop()
		return nil, fmt.Errorf("%s %s exited before it listened:\n%s", path, strings.Join(args, " "), s.output())
	case <-timeout.C:
		s.stop()
		return nil, fmt.Errorf("%s %s printed no address in 10s:\n%s", path, strings.Join(args, " "), s.output())
	case <-ctx.Done():
		s.stop()
		return nil, context.Cause(ctx)
	}
}

// stop sends SIGTERM, waits up to 5s, then kills; it reports an exit
// other than 0 or the signal's.
func (s *server) stop() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	// Wait only once its stdout is read to the end (os/exec's rule for
	// StdoutPipe); that end comes when the process exits.
	go func() {
		<-s.done
		exited <- s.cmd.Wait()
	}()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && !ee.Exited()) {
			return fmt.Errorf("%s: %v\n%s", s.name, err, s.output())
		}
		return nil
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s did not stop within 5s of SIGTERM; killed", s.name)
	}
}

func (s *server) write(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.Len() < 64<<10 {
		s.out.WriteString(p)
	}
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

type lockedWriter struct{ s *server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.write(string(p))
	return len(p), nil
}

// ran is a finished client process.
type ran struct {
	stdout, stderr string
	// peakRSS is the process's peak resident set (ru_maxrss), in bytes.
	peakRSS int64
}

// runClient runs path args... on core, killed when timeout passes, and
// returns its output and peak RSS; an exit other than 0 is an error.
func runClient(ctx context.Context, core string, timeout time.Duration, path string, args ...string) (ran, error) {
	return runClientUnder(ctx, core, timeout, nil, nil, path, args...)
}

// runClientUnder is runClient with env added to the environment and the
// program run by wrapper (valgrind and its flags), when there is one.
func runClientUnder(ctx context.Context, core string, timeout time.Duration, env, wrapper []string, path string, args ...string) (ran, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := append(append(append([]string{"-c", core}, wrapper...), path), args...)
	cmd := exec.CommandContext(ctx, "taskset", argv...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := ran{stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.peakRSS = ru.Maxrss * 1024
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (timeout %s)", err, timeout)
		}
		return r, fmt.Errorf("%s %s: %v\n%s", path, strings.Join(args, " "), err, tail(r.stdout+r.stderr, 20))
	}
	return r, nil
}

// workDir is a fresh folder for one measurement's files.
func workDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "autox-bench-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
