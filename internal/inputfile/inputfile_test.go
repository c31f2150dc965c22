// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package inputfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRead: a regular file within its limit is read; anything else is
// refused by its kind or size before a byte is read. (/dev/null stands
// for every device: were it read, it would end at once.)
func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	type got struct {
		Data string
		Err  string
		Fix  string
	}
	for _, tc := range []struct {
		name  string
		path  string
		limit int64
		want  got
	}{
		{"a file at its limit", small, 10, got{Data: "0123456789"}},
		{"a link to a file", link, 10, got{Data: "0123456789"}},
		{"a file over its limit", small, 9, got{Err: "it is 10 bytes, more than the limit of 9 bytes", Fix: "pass a regular file of at most 9 bytes"}},
		{"a device", "/dev/null", 4 << 20, got{Err: "it is a device, not a regular file", Fix: "pass a regular file of at most 4 MiB"}},
		{"a folder", dir, 1 << 10, got{Err: "it is a folder, not a regular file", Fix: "pass a regular file of at most 1 KiB"}},
		{"no file", filepath.Join(dir, "absent"), 10, got{Err: "no such file or directory", Fix: "pass an existing file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(tc.path, tc.limit)
			g := got{Data: string(b)}
			if err != nil {
				g.Err, g.Fix = err.Error(), FixFor(err, "pass an existing file")
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadAPipe: -f <(...) is a pipe, read within the limit.
func TestReadAPipe(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"within the limit", "0123456789", []string{"0123456789", ""}},
		{"over the limit", "0123456789A", []string{"", "it is more than the limit of 10 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				w.WriteString(tc.data)
				w.Close()
			}()
			b, err := Read(fifo, 10)
			got := []string{string(b), ""}
			if err != nil {
				got[1] = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := Check(fifo, 10); err == nil || err.Error() != "it is a named pipe, not a regular file" {
				t.Errorf("Check = %v, want it refused: client-go would read it whole", err)
			}
		})
	}
}

func TestSize(t *testing.T) {
	got := []string{Size(MaxYAML), Size(MaxKubeconfig), Size(512 << 10), Size(1000)}
	if diff := cmp.Diff([]string{"4 MiB", "16 MiB", "512 KiB", "1000 bytes"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
