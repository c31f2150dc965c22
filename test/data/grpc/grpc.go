// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package grpc holds the seed's gRPC payloads (iter8-tools/docs
// samples/grpc-payload), for tests and for the sample routeguide, which
// serves them over HTTP so an experiment in a cluster with no way out can
// fetch them by dataURL as the seed does.
package grpc

import "embed"

// Files are unary.json (GetFeature) and server.json (ListFeatures).
//
//go:embed unary.json server.json
var Files embed.FS
