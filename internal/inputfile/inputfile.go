// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package inputfile reads the files a user names (values files,
// experiments, metrics and result files, kubeconfigs) within a size
// limit, so that /dev/zero, a pipe or a runaway file is bad input with a
// clear message rather than a program that runs out of memory.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Limits of the files autox reads.
const (
	// MaxYAML bounds a YAML input: an experiment file or a values file.
	// What becomes a Kubernetes object (a Trigger's params, a PipelineRun's
	// experiment param) is refused by the API server above 1.5 MiB, so
	// 4 MiB leaves room for comments and local-only experiments while
	// keeping YAML's node tree within a few hundred MB.
	MaxYAML = 4 << 20
	// MaxKubeconfig bounds one kubeconfig file: a kubeconfig with a
	// hundred contexts and their embedded certificates is well under 1 MiB.
	MaxKubeconfig = 16 << 20
	// MaxMetrics bounds a metrics file a load step wrote: each endpoint
	// holds two compressed histograms of a few KB, so thousands of
	// endpoints fit.
	MaxMetrics = 64 << 20
	// MaxResult bounds a result file: it is stored in a ConfigMap, which
	// holds 1 MiB at most.
	MaxResult = 4 << 20
)

// RefusedError is a file Read or Check refuses to read: not a regular
// file, or above its limit. Its text is one clause without the path (the
// caller names the file or its field), e.g. "it is a device, not a regular
// file" or "it is 5242880 bytes, more than the limit of 4 MiB"; the
// caller adds the fix, e.g. "pass a regular file of at most 4 MiB"
// (Fix).
type RefusedError struct {
	Reason string
	// Limit is the limit of the read, in bytes.
	Limit int64
}

func (e *RefusedError) Error() string { return e.Reason }

// Fix is the usual fix of a refused file: "pass a regular file of at most
// 4 MiB".
func (e *RefusedError) Fix() string { return "pass a regular file of at most " + Size(e.Limit) }

// Read reads the regular file path, refusing anything else (a device such
// as /dev/zero, a folder, a socket) and a file of more than limit bytes
// with a *RefusedError. A pipe (-f <(...), a FIFO) is read too, and
// refused once more than limit bytes came through it. Other errors are
// the cause of an open or read error, without the path ("no such file or
// directory").
func Read(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, unwrap(err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		if err := check(fi, limit); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrap(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, unwrap(err)
	}
	if int64(len(b)) > limit {
		// A pipe, or a file that grew after its check.
		return nil, &RefusedError{Reason: "it is more than the limit of " + Size(limit), Limit: limit}
	}
	return b, nil
}

// Check says whether path is a regular file of at most limit bytes, for
// a file another library reads whole (client-go, a kubeconfig): a
// *RefusedError when it is not, a pipe included; an error that it does
// not exist wraps fs.ErrNotExist. It follows symbolic links (a mounted
// ConfigMap's files are links).
func Check(path string, limit int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return unwrap(err)
	}
	return check(fi, limit)
}

func check(fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &RefusedError{Reason: "it is " + kind(fi.Mode()) + ", not a regular file", Limit: limit}
	}
	if fi.Size() > limit {
		return &RefusedError{Reason: fmt.Sprintf("it is %d bytes, more than the limit of %s", fi.Size(), Size(limit)), Limit: limit}
	}
	return nil
}

// kind names a file mode that is not a regular file's.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}

// Size writes a limit the way people read it: 4 MiB, 512 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FixFor is the fix to print after err: the refused file's (Fix) when err
// is a *RefusedError, else fix.
func FixFor(err error, fix string) string {
	var r *RefusedError
	if errors.As(err, &r) {
		return r.Fix()
	}
	return fix
}
