// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package cpucache

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sysfs writes a cache folder: each entry is level, type, size.
func sysfs(t *testing.T, caches [][3]string) string {
	t.Helper()
	dir := t.TempDir()
	for i, c := range caches {
		idx := filepath.Join(dir, "index"+string(rune('0'+i)))
		if err := os.MkdirAll(idx, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": c[0], "type": c[1], "size": c[2]} {
			if err := os.WriteFile(filepath.Join(idx, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestLastLevel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		caches [][3]string
		want   Cache
		wantOK bool
		str    string
	}{
		{"intel with a large L3", [][3]string{{"1", "Data", "48K"}, {"1", "Instruction", "64K"}, {"2", "Unified", "2048K"}, {"3", "Unified", "491520K"}},
			Cache{3, 480 << 20}, true, "L3 480 MiB"},
		{"amd zen 5, one CCD", [][3]string{{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1024K"}, {"3", "Unified", "32768K"}},
			Cache{3, 32 << 20}, true, "L3 32 MiB"},
		{"no L3", [][3]string{{"1", "Data", "32K"}, {"2", "Unified", "1280K"}}, Cache{2, 1280 << 10}, true, "L2 1280 KiB"},
		{"instruction cache only", [][3]string{{"1", "Instruction", "32K"}}, Cache{}, false, ""},
		{"unreadable size", [][3]string{{"2", "Unified", "lots"}}, Cache{}, false, ""},
		{"no caches", nil, Cache{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := LastLevel(sysfs(t, tc.caches))
			if ok != tc.wantOK {
				t.Fatalf("LastLevel ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("LastLevel (-want +got):\n%s", diff)
			}
			if ok && got.String() != tc.str {
				t.Errorf("String() = %q, want %q", got.String(), tc.str)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"32768K", 32 << 20, false},
		{"32M", 32 << 20, false},
		{"4096", 4096, false},
		{"", 0, true},
		{"-1K", 0, true},
		{"0", 0, true},
		{"99999999999999999K", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
