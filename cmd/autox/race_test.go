// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build race

package main

// raceDetector: the tests run under the race detector, which slows the
// load generator and the test servers in this one process by several times.
const raceDetector = true
