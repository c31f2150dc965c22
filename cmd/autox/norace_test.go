// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !race

package main

const raceDetector = false
