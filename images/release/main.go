// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Command release makes autox's release file from what `ko resolve` wrote,
// and pushes the catalog as Tekton bundles. See usage; the work is done
// by internal/release.
//
//	go run ./images/release -in resolved.yaml -out bin/release.yaml -repo 127.0.0.1:10290/autox [-insecure] [-pipeline-from bundle]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/autox-tekton/autox/internal/bundle"
	"github.com/autox-tekton/autox/internal/cli"
	"github.com/autox-tekton/autox/internal/logging"
	"github.com/autox-tekton/autox/internal/release"
)

const usage = `release: make the release file from ko resolve's output, and push the
catalog (every StepAction, Task and the Pipeline) as Tekton bundles

  go run ./images/release -in resolved.yaml -out bin/release.yaml -repo REPO [-insecure] [-pipeline-from bundle]

Each StepAction, Task and the Pipeline is pushed as a bundle of its own,
REPO/bundles/<name>:v<version> (their app.kubernetes.io/version label,
which they must share). A Task's step refs by name become the bundles
resolver's refs to the StepActions' bundles, pinned by digest; the
Pipeline's taskRefs likewise to the Tasks'. The release file is the input
with the catalog objects in -namespace, plus the ConfigMap autox-bundles
in -system-namespace (data: pipeline, the Pipeline's bundle; tasks, the
Tasks', one per line, sorted). With -pipeline-from bundle, the
TriggerTemplate autox's PipelineRun takes the Pipeline from its bundle.
bundles.txt, beside the release file, has one kind/name=ref line per
bundle, which are also printed on stdout. Credentials to push with are
docker's (~/.docker/config.json), as ko's.

Nothing is written unless every bundle was pushed; each file is replaced
whole. Exit status: 0 done, 2 bad input (a flag or the input file; nothing
was pushed), 3 a push or a write failed.

Flags:`

func main() {
	log := logging.New(os.Stderr, slog.LevelInfo)
	cli.Main("release", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr, log)
	})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	in := fs.String("in", "", "the file ko resolve wrote (the catalog without namespaces, the install objects)")
	out := fs.String("out", "", "the release file to write, e.g. bin/release.yaml; bundles.txt goes beside it")
	repo := fs.String("repo", "", "registry and path to push the bundles to (ko's KO_DOCKER_REPO), e.g. 127.0.0.1:10290/autox")
	pullRepo := fs.String("pull-repo", "", "the same registry and path as the cluster's bundles resolver reaches it, named in every bundle reference (default -repo); for the test cluster's loopback registry, 10.88.0.1:10290/autox")
	insecure := fs.Bool("insecure", false, "push over plain HTTP (a registry on loopback is spoken to so anyway)")
	namespace := fs.String("namespace", release.DefaultNamespace, "namespace of the catalog objects (StepActions, Tasks, the Pipeline) in the release file")
	systemNamespace := fs.String("system-namespace", release.DefaultSystemNamespace, "namespace of the ConfigMap autox-bundles")
	pipelineFrom := fs.String("pipeline-from", release.PipelineFromCluster, "where the TriggerTemplate autox's PipelineRun takes the Pipeline from: cluster (by name, in its namespace) or bundle (the bundles resolver, pinned by digest)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, nil, func(string) string { return "" }); err != nil {
		return err
	}
	cfg := release.Config{
		In:              *in,
		Out:             *out,
		Namespace:       *namespace,
		SystemNamespace: *systemNamespace,
		PipelineFrom:    *pipelineFrom,
		Registry: bundle.Registry{
			Repo:     *repo,
			PullRepo: *pullRepo,
			Insecure: *insecure,
			Keychain: authn.DefaultKeychain,
		},
		Log: log,
	}
	return release.Run(ctx, cfg, stdout)
}
