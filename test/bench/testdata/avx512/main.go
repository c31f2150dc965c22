// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command avx512 runs one AVX-512 instruction and prints "ok": a Go
// program that runs on a CPU with AVX-512 and that valgrind, which
// decodes no AVX-512, cannot run there. The CPU row's test uses it as a
// program valgrind cannot run on this CPU. With $AUTOX_TEST_EXEC set, it
// then becomes that program, with its arguments (a cmd/http that
// valgrind cannot run).
package main

import (
	"fmt"
	"os"
	"syscall"
)

// xorZ0 runs VPXORD on Z0 (avx512_amd64.s).
func xorZ0()

func main() {
	xorZ0()
	if p := os.Getenv("AUTOX_TEST_EXEC"); p != "" {
		err := syscall.Exec(p, append([]string{p}, os.Args[1:]...), os.Environ())
		fmt.Fprintln(os.Stderr, "avx512:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
