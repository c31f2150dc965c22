// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package cpucache reads the size of the CPU's last-level cache from
// sysfs (/sys/devices/system/cpu/cpu0/cache), which containers see as
// well. The load loop sizes its GC slack from it, and the bench prints
// it with the machine it ran on.
package cpucache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// SysfsDir is where the kernel describes CPU 0's caches.
const SysfsDir = "/sys/devices/system/cpu/cpu0/cache"

// Cache is one cache of the CPU.
type Cache struct {
	// Level is 1, 2, 3...
	Level int
	// Bytes is its size.
	Bytes int64
}

func (c Cache) String() string {
	if c.Bytes >= 1<<20 && c.Bytes%(1<<20) == 0 {
		return fmt.Sprintf("L%d %d MiB", c.Level, c.Bytes>>20)
	}
	return fmt.Sprintf("L%d %d KiB", c.Level, c.Bytes>>10)
}

// LastLevel is the highest-level data or unified cache that dir (a
// sysfs cpuN/cache folder) describes; ok is false when it describes none
// that can be read.
func LastLevel(dir string) (c Cache, ok bool) {
	entries, _ := filepath.Glob(filepath.Join(dir, "index*"))
	for _, e := range entries {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(e, name))
			return strings.TrimSpace(string(b))
		}
		if read("type") == "Instruction" {
			continue
		}
		l, err := strconv.Atoi(read("level"))
		if err != nil || l < c.Level {
			continue
		}
		size, err := ParseSize(read("size"))
		if err != nil {
			continue
		}
		c, ok = Cache{Level: l, Bytes: size}, true
	}
	return c, ok
}

// ParseSize reads sysfs's cache size: "32768K", "32M" or bytes.
func ParseSize(s string) (int64, error) {
	mult, num := int64(1), s
	switch {
	case strings.HasSuffix(s, "K"):
		mult, num = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, num = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > 1<<40/mult {
		return 0, fmt.Errorf("cache size %q: want a positive number of bytes, K or M", s)
	}
	return n * mult, nil
}
