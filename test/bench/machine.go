// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/autox-tekton/autox/internal/cpucache"
)

// Machine is what a run of the suite ran on, so that figures from two
// machines can be told apart: the same code measured 1.03x hey on one
// 2-core machine and 0.87x on another with a faster CPU.
type Machine struct {
	// CPU is the model name (/proc/cpuinfo), Vendor, Family and Model
	// its CPUID identity: "AuthenticAMD" family 26 is AMD Zen 5.
	CPU    string `json:"cpu"`
	Vendor string `json:"vendor,omitempty"`
	Family int    `json:"family,omitempty"`
	Model  int    `json:"model,omitempty"`
	// CPUs is how many logical CPUs the machine has.
	CPUs int `json:"cpus"`
	// LastLevelCache is the largest cache of CPU 0, "L3 480 MiB"
	// (sysfs); empty when the kernel does not say.
	LastLevelCache string `json:"lastLevelCache,omitempty"`
	// Kernel is the running kernel's release.
	Kernel string `json:"kernel,omitempty"`
	// Go is the Go version that built the measured programs (bin/http).
	Go string `json:"go"`
	// Valgrind is valgrind --version, empty when it is not installed.
	Valgrind string `json:"valgrind,omitempty"`
}

func (m Machine) String() string {
	cpu := m.CPU
	if m.Vendor != "" {
		cpu += fmt.Sprintf(" (%s family %d model %d)", m.Vendor, m.Family, m.Model)
	}
	parts := []string{cpu, fmt.Sprintf("%d CPUs", m.CPUs)}
	for _, p := range []string{m.LastLevelCache, prefixed("Linux ", m.Kernel), m.Go, m.Valgrind} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// thisMachine reads the machine's identity; what it cannot read stays
// empty ("unknown" for the CPU), it never fails the suite.
func thisMachine(bin string) Machine {
	m := Machine{CPU: "unknown CPU"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		m = parseCPUInfo(f)
		f.Close()
	}
	if c, ok := cpucache.LastLevel(cpucache.SysfsDir); ok {
		m.LastLevelCache = c.String()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if info, err := buildinfo.ReadFile(filepath.Join(bin, "http")); err == nil {
		m.Go = info.GoVersion
	}
	if out, err := exec.Command("valgrind", "--version").Output(); err == nil {
		m.Valgrind = strings.TrimSpace(string(out))
	}
	return m
}

// parseCPUInfo reads /proc/cpuinfo: the first processor's model name,
// vendor, family and model, and how many processors there are.
func parseCPUInfo(r io.Reader) Machine {
	m := Machine{CPU: "unknown CPU"}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "processor" {
			m.CPUs++
		}
		if m.CPUs > 1 {
			continue
		}
		switch k {
		case "model name":
			m.CPU = v
		case "vendor_id":
			m.Vendor = v
		case "cpu family":
			m.Family, _ = strconv.Atoi(v)
		case "model":
			m.Model, _ = strconv.Atoi(v)
		}
	}
	return m
}

// allowedCPUs lists the CPUs this process may run on (its affinity).
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := range 1024 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}

// pickCores puts the servers on the first allowed CPU and the load
// generators on the second; with one CPU they share it, and note says
// so.
func pickCores(cpus []int) (server, client, note string, err error) {
	switch len(cpus) {
	case 0:
		return "", "", "", fmt.Errorf("cannot tell which CPUs this process may run on; set -server-core and -client-core (BENCH_SERVER_CORE, BENCH_CLIENT_CORE)")
	case 1:
		c := strconv.Itoa(cpus[0])
		return c, c, "one CPU (" + c + "): servers and load generators share it, so the ratios compare tools on half a core each", nil
	}
	return strconv.Itoa(cpus[0]), strconv.Itoa(cpus[1]), "", nil
}
