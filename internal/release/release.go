// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package release makes autox's release from the YAML that `ko resolve`
// wrote (the catalog and the install objects, our images pinned by
// digest): it places the catalog's StepActions, Tasks and Pipeline in
// their namespace, pushes each of them as a Tekton bundle (package
// bundle), records the bundles in the ConfigMap autox-bundles, which the
// admission policies read, and can make the TriggerTemplate autox take the
// Pipeline from its bundle. Nothing is written unless everything worked:
// the release file and bundles.txt beside it are each replaced whole.
package release

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/bundle"
)

// Where the TriggerTemplate autox's PipelineRuns take the Pipeline from.
const (
	// PipelineFromCluster keeps `pipelineRef: {name: autox}`: the Pipeline
	// installed in the runs' namespace.
	PipelineFromCluster = "cluster"
	// PipelineFromBundle makes it the bundles resolver's reference to the
	// Pipeline's bundle, pinned by digest.
	PipelineFromBundle = "bundle"
)

// Defaults of Config.
const (
	DefaultNamespace       = "autox"
	DefaultSystemNamespace = "autox-system"
)

// BundlesConfigMap is the ConfigMap that lists the release's bundles; its
// data key pipeline holds the Pipelines' bundles, key tasks the Tasks',
// one per line, sorted.
const BundlesConfigMap = "autox-bundles"

// TriggerTemplate is the name of the TriggerTemplate whose PipelineRun
// PipelineFromBundle rewrites.
const TriggerTemplate = "autox"

// BundlesFile is written beside the release file: one kind/name=ref line
// per bundle pushed.
const BundlesFile = "bundles.txt"

// Config is one release.
type Config struct {
	// In is the file `ko resolve` wrote: the catalog (StepActions, Tasks,
	// the Pipeline; no namespace) and the install objects (with theirs).
	In string
	// Out is the release file to write; BundlesFile goes beside it.
	Out string
	// Namespace is where the catalog objects are installed (autox).
	Namespace string
	// SystemNamespace is where the ConfigMap autox-bundles goes
	// (autox-system).
	SystemNamespace string
	// PipelineFrom is PipelineFromCluster or PipelineFromBundle; empty
	// means PipelineFromCluster.
	PipelineFrom string
	// Registry is where the bundles are pushed.
	Registry bundle.Registry
	// Log gets a line per bundle pushed and per file written; nil logs
	// nothing.
	Log *slog.Logger
}

// Validate returns every problem with cfg, each naming its flag.
func (c Config) Validate() error {
	var problems []badinput.FieldError
	add := func(flag, msg string) {
		problems = append(problems, badinput.FieldError{Path: flag, Message: msg})
	}
	if c.In == "" {
		add("-in", "missing; give the file ko resolve wrote, e.g. -in resolved.yaml")
	}
	if c.Out == "" {
		add("-out", "missing; give the release file to write, e.g. -out bin/release.yaml")
	}
	for _, ns := range []struct{ flag, value, example string }{
		{"-namespace", c.Namespace, DefaultNamespace},
		{"-system-namespace", c.SystemNamespace, DefaultSystemNamespace},
	} {
		if ns.value == "" {
			add(ns.flag, "missing; give a namespace name, e.g. "+ns.example)
		} else if errs := validation.IsDNS1123Label(ns.value); len(errs) > 0 {
			add(ns.flag, fmt.Sprintf("%q is not a namespace name (%s); write one such as %s", ns.value, strings.Join(errs, "; "), ns.example))
		}
	}
	switch c.PipelineFrom {
	case "", PipelineFromCluster, PipelineFromBundle:
	default:
		add("-pipeline-from", fmt.Sprintf("%q is neither %s nor %s; write %s (the Pipeline installed in the runs' namespace) or %s (its bundle, pinned by digest)",
			c.PipelineFrom, PipelineFromCluster, PipelineFromBundle, PipelineFromCluster, PipelineFromBundle))
	}
	if err := c.Registry.Check(); err != nil {
		add("-repo", err.Error())
	}
	if len(problems) > 0 {
		return &badinput.Error{Problems: problems}
	}
	return nil
}

// Run makes the release of cfg: it reads In, checks all of it, pushes the
// bundles, then writes BundlesFile and Out, and prints the kind/name=ref
// lines to stdout. Bad input is an *badinput.Error with every
// problem, found before anything is pushed.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	data, err := os.ReadFile(cfg.In)
	if err != nil {
		return &badinput.Error{Problems: []badinput.FieldError{{Path: "-in", Message: fmt.Sprintf("%v; give the file ko resolve wrote", err)}}}
	}
	docs, err := parse(cfg.In, data)
	if err != nil {
		return err
	}
	p, err := plan(cfg, docs)
	if err != nil {
		return err
	}
	pushed, err := bundle.Publisher{Registry: cfg.Registry, Log: log}.Publish(ctx, p.objects)
	if err != nil {
		return err
	}
	out, err := render(cfg, p, pushed)
	if err != nil {
		return err
	}
	var lines strings.Builder
	for _, b := range pushed {
		lines.WriteString(b.String() + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Out), 0o755); err != nil {
		return fmt.Errorf("making the folder of -out: %w", err)
	}
	list := filepath.Join(filepath.Dir(cfg.Out), BundlesFile)
	if err := atomicfile.Write(list, []byte(lines.String())); err != nil {
		return err
	}
	if err := atomicfile.Write(cfg.Out, out); err != nil {
		return err
	}
	log.Info("wrote the release", "file", cfg.Out, "objects", len(docs)+1, "bundles", list)
	_, err = io.WriteString(stdout, lines.String())
	return err
}
