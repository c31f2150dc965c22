// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command avx512 runs one AVX-512 instruction and prints "ok": a Go
// program that runs on a CPU with AVX-512 and that valgrind, which
// decodes no AVX-512, cannot run there. The CPU row's test uses it as a
// program valgrind cannot run on this CPU.
package main

import "fmt"

// xorZ0 runs VPXORD on Z0 (avx512_amd64.s).
func xorZ0()

func main() {
	xorZ0()
	fmt.Println("ok")
}
