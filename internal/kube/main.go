// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"context"
	"log/slog"
	"os"

	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/logging"
)

// Main is cli.Main for a program that talks to the cluster: its logger
// writes to stderr, and client-go's log lines go to it (LogClientTo)
// before work starts, so before client-go logs anything.
func Main(program string, work func(ctx context.Context, log *slog.Logger) error) {
	log := logging.New(os.Stderr, slog.LevelInfo)
	cli.Main(program, func(ctx context.Context) error {
		LogClientTo(ctx, log)
		return work(ctx, log)
	})
}
