// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package load

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// prefaultChild, set, makes the test binary the child of
// TestPrefaultBringsPagesIn: it allocates as a load does, with or without
// Prefault first, and prints the page faults the allocations met.
const prefaultChild = "AUTOX_PREFAULT_CHILD"

func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return ru.Minflt
}

// TestPrefaultBringsPagesIn: 8 MB of small objects allocated after
// Prefault(16 MB), above an 8 MB ballast as in a load, meet a fraction of
// the page faults they meet without it. Each case runs in a process of
// its own, so that neither inherits the other's resident heap.
func TestPrefaultBringsPagesIn(t *testing.T) {
	if mode := os.Getenv(prefaultChild); mode != "" {
		ballast := make([]byte, 8<<20)
		if mode == "prefault" {
			Prefault(2 * len(ballast))
		}
		before := minorFaults(t)
		objs := make([][]byte, 0, 2048)
		for range 2048 {
			b := make([]byte, 4000)
			b[0] = 1
			objs = append(objs, b)
		}
		after := minorFaults(t)
		runtime.KeepAlive(objs)
		runtime.KeepAlive(ballast)
		fmt.Printf("faults %d\n", after-before)
		return
	}
	faults := map[string]int64{}
	for _, mode := range []string{"none", "prefault"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrefaultBringsPagesIn$", "-test.count=1")
		cmd.Env = append(os.Environ(), prefaultChild+"="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %s: %v\n%s", mode, err, out)
		}
		var n int64 = -1
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "faults "); ok {
				n, err = strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("child %s printed %q: %v", mode, line, err)
				}
			}
		}
		if n < 0 {
			t.Fatalf("child %s printed no fault count:\n%s", mode, out)
		}
		faults[mode] = n
	}
	t.Logf("page faults allocating 8 MB: %d without Prefault, %d after it", faults["none"], faults["prefault"])
	// 8 MB is 2048 pages of 4 KiB: without Prefault most are new.
	if faults["none"] < 1000 {
		t.Fatalf("%d page faults without Prefault, want 1000 or more: the test cannot tell Prefault's effect here", faults["none"])
	}
	if faults["prefault"]*4 > faults["none"] {
		t.Errorf("%d page faults after Prefault, want under a quarter of the %d without it", faults["prefault"], faults["none"])
	}
}
