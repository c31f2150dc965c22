// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command fine allocates, collects and prints "ok": a Go program that
// valgrind runs, for the CPU row's test.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	var keep [][]byte
	for i := range 1000 {
		keep = append(keep, make([]byte, 1024+i))
	}
	runtime.GC()
	fmt.Println("ok", len(keep))
}
