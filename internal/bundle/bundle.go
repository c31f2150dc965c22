// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package bundle makes Tekton bundles and pushes them: OCI images that
// hold Tekton resources, which Tekton's bundles resolver reads.
//
// An image follows Tekton's bundle contract (docs/tekton-bundle-contracts.md
// of tektoncd/pipeline) to the letter: at most 20 layers, one resource per
// layer; each layer annotated with dev.tekton.image.apiVersion (the
// resource's apiVersion, e.g. tekton.dev/v1), dev.tekton.image.kind (its
// kind, lower case and singular: task) and dev.tekton.image.name (its
// metadata.name); each layer an OCI gzip-compressed tar whose one file,
// named after the resource, holds the resource as JSON, as `tkn bundle
// push` writes it. Images are reproducible: the same objects give the same
// digest (JSON keys sorted, every timestamp the Unix epoch).
//
// Publish pushes a catalog (StepActions, Tasks, Pipelines) as one bundle
// per resource, with every reference between them rewritten to the
// bundles resolver and pinned by digest, so that each bundle resolves on
// its own.
package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The layer annotations of the bundle contract.
const (
	AnnotationAPIVersion = "dev.tekton.image.apiVersion"
	AnnotationKind       = "dev.tekton.image.kind"
	AnnotationName       = "dev.tekton.image.name"
)

// MaxObjects is the most resources one bundle may hold (the contract's
// limit; Tekton's resolver refuses a bigger bundle).
const MaxObjects = 20

// epoch is every timestamp of a bundle, so that its digest depends on its
// objects alone.
var epoch = time.Unix(0, 0).UTC()

// Object is one Tekton resource of a bundle.
type Object struct {
	// APIVersion, Kind and Name identify the resource (e.g. tekton.dev/v1,
	// Task, autox-experiment); they become the layer's annotations.
	APIVersion string
	Kind       string
	Name       string
	// JSON is the resource itself, what the layer holds.
	JSON []byte
}

// NewObject reads a resource given as JSON and takes its apiVersion, kind
// and metadata.name from it.
func NewObject(data []byte) (Object, error) {
	var id struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &id); err != nil {
		return Object{}, fmt.Errorf("reading a resource as JSON: %w", err)
	}
	o := Object{APIVersion: id.APIVersion, Kind: id.Kind, Name: id.Metadata.Name, JSON: data}
	if err := o.check(); err != nil {
		return Object{}, err
	}
	return o, nil
}

// ContractKind is the kind as the contract's annotation and the bundles
// resolver's kind param write it: lower case, singular (stepaction).
func (o Object) ContractKind() string { return strings.ToLower(o.Kind) }

// String names the object as kind/name, e.g. task/autox-experiment.
func (o Object) String() string { return o.ContractKind() + "/" + o.Name }

func (o Object) check() error {
	var missing []string
	if o.APIVersion == "" {
		missing = append(missing, "apiVersion")
	}
	if o.Kind == "" {
		missing = append(missing, "kind")
	}
	if o.Name == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		return fmt.Errorf("a resource without %s cannot be bundled: the contract annotates each layer with them; write them in the resource", strings.Join(missing, ", "))
	}
	// The resolver's check: the kind must be lower case and singular once
	// lowered, so a kind ending in s could never be read back.
	if k := o.ContractKind(); strings.TrimSuffix(k, "s") != k {
		return fmt.Errorf("%s: kind %q ends in s, which Tekton's bundles resolver reads as a plural and refuses", o, o.Kind)
	}
	if !json.Valid(o.JSON) {
		return fmt.Errorf("%s: its content is not JSON; a bundle layer holds the resource as JSON", o)
	}
	return nil
}

// Image makes the bundle of objs: one layer per object, in the order of
// kind then name, whatever the order given.
func Image(objs ...Object) (v1.Image, error) {
	if len(objs) == 0 {
		return nil, fmt.Errorf("a bundle needs at least one resource")
	}
	if len(objs) > MaxObjects {
		return nil, fmt.Errorf("%d resources in one bundle; the bundle contract allows at most %d: split them", len(objs), MaxObjects)
	}
	sorted := append([]Object(nil), objs...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.ContractKind() != b.ContractKind() {
			return a.ContractKind() < b.ContractKind()
		}
		return a.Name < b.Name
	})
	seen := map[[3]string]bool{}
	adds := make([]mutate.Addendum, 0, len(sorted))
	for _, o := range sorted {
		if err := o.check(); err != nil {
			return nil, err
		}
		// The contract: the three annotations are unique among the layers.
		id := [3]string{o.APIVersion, o.ContractKind(), o.Name}
		if seen[id] {
			return nil, fmt.Errorf("%s (%s) is given twice; a bundle holds each resource once", o, o.APIVersion)
		}
		seen[id] = true
		l, err := layer(o)
		if err != nil {
			return nil, fmt.Errorf("%s: making its layer: %w", o, err)
		}
		adds = append(adds, mutate.Addendum{
			Layer:     l,
			MediaType: types.OCILayer,
			Annotations: map[string]string{
				AnnotationAPIVersion: o.APIVersion,
				AnnotationKind:       o.ContractKind(),
				AnnotationName:       o.Name,
			},
			History: v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "autox bundle " + o.String()},
		})
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("adding the layers: %w", err)
	}
	img, err = mutate.CreatedAt(img, v1.Time{Time: epoch})
	if err != nil {
		return nil, fmt.Errorf("setting the creation time: %w", err)
	}
	return img, nil
}

// layer is o's layer: a tar of one file, named after the resource, that
// holds its JSON (what Tekton's resolver reads: the first file of the tar).
func layer(o Object) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     o.Name,
		Mode:     0o600,
		Size:     int64(len(o.JSON)),
		ModTime:  epoch,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(o.JSON); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
