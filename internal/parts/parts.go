// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package parts passes a run's metrics files between its pods. A run with
// workers (http.workers, grpc.workers above 1) is several pods: ready,
// one load pod per worker, assess. Each keeps the metrics files it wrote
// in a ConfigMap of its own, <run>-<part>, owned by the PipelineRun (so
// deleted with it), and the next pod gathers them into its work folder,
// where the steps find them as if one pod had written them all.
//
// A part is trusted only when owned by the run's uid and labelled as that
// part: whoever may create ConfigMaps in the namespace could write one by
// the name. Only *.metrics.json files of a bounded size pass.
package parts

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/metrics"
	"github.com/autox-tekton/autox/internal/store"
)

// Label marks a part's ConfigMap; its value is the part's name.
const Label = "autox.dev/part"

// Ready is the ready pod's part; a worker's is Worker(i).
const Ready = "ready"

// Worker is the part of the run's load pod i (1-based): w<i>.
func Worker(i int) string { return "w" + strconv.Itoa(i) }

// MaxFileBytes bounds one metrics file unzipped, as it is gathered: a
// file with full histograms of a long run is a few MB at most.
const MaxFileBytes = 16 << 20

// maxPartBytes bounds a part's ConfigMap (its gzipped files): under the
// API server's 1 MiB object limit, with room for the object's metadata.
const maxPartBytes = 1000 << 10

var readyFile = "ready" + metrics.FileSuffix

var partName = regexp.MustCompile(`^(ready|w[1-9][0-9]?)$`)

// fileName is what a part may hold: a task's metrics file, its worker's
// or its own.
var fileName = regexp.MustCompile(`^[a-z]+(-w[1-9][0-9]?)?` + regexp.QuoteMeta(metrics.FileSuffix) + `$`)

// Store keeps and gathers the parts of one run.
type Store struct {
	ConfigMaps corev1client.ConfigMapsGetter
	Namespace  string
	// Run is the PipelineRun (or a Task's TaskRun, run alone): it names
	// the parts and owns them.
	Run store.Owner
}

// Name is the ConfigMap that holds part.
func (s Store) Name(part string) string { return s.Run.Name + "-" + part }

func (s Store) check(part string) error {
	if !partName.MatchString(part) {
		return fmt.Errorf("part %q is not ready or w<1..64>", part)
	}
	if (s.Run.Kind != store.KindPipelineRun && s.Run.Kind != store.KindTaskRun) || s.Run.Name == "" || s.Run.UID == "" || s.Namespace == "" {
		return fmt.Errorf("a run's parts need its PipelineRun's (or a TaskRun's, run alone) name, uid and namespace (-pipelinerun, -pipelinerun-uid, -namespace)")
	}
	return nil
}

// Keep stores the metrics files of dir as part (ready's file for Ready,
// the others for a load pod's, none of skip, the files this pod
// gathered), replacing an earlier attempt's of the
// same run. It returns the files kept.
func (s Store) Keep(ctx context.Context, part, dir string, skip []string) ([]string, error) {
	if err := s.check(part); err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*"+metrics.FileSuffix))
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	var kept []string
	size := 0
	for _, p := range paths {
		name := filepath.Base(p)
		// The ready part holds ready's file; a load pod's holds its load
		// files, not the ready file it gathered.
		isReady := name == readyFile
		if slices.Contains(skip, name) || !fileName.MatchString(name) || isReady != (part == Ready) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		z, err := zip(b)
		if err != nil {
			return nil, err
		}
		size += len(z)
		data[name] = z
		kept = append(kept, name)
	}
	if size > maxPartBytes {
		return nil, fmt.Errorf("part %s: %d bytes gzipped, more than a ConfigMap holds (%d); send fewer endpoints per run", part, size, maxPartBytes)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      s.Name(part),
			Namespace: s.Namespace,
			Labels:    map[string]string{Label: part, store.LabelPartOf: store.PartOf, store.LabelAutoxVersion: store.AutoxVersion},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "tekton.dev/v1", Kind: s.Run.Kind, Name: s.Run.Name, UID: types.UID(s.Run.UID),
			}},
		},
		BinaryData: data,
	}
	// Create only: a run keeps each part once (its pipeline tasks have
	// no retries), so a part already there is another pod's, and is
	// neither overwritten nor trusted over.
	_, err = s.ConfigMaps.ConfigMaps(s.Namespace).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("part %s/%s exists already: each part of a run is kept once, by its own pod; was this worker run twice?", s.Namespace, cm.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("keeping part %s/%s: %w", s.Namespace, cm.Name, err)
	}
	return kept, nil
}

// ErrMissing is a part that is not there: its pod failed, or never ran.
var ErrMissing = errors.New("no such part")

// Gather writes part's files into dir, each whole or absent, and returns
// their names. A part that is not there is ErrMissing; one not owned by
// the run, or holding what a part may not, is refused by name.
func (s Store) Gather(ctx context.Context, part, dir string) ([]string, error) {
	if err := s.check(part); err != nil {
		return nil, err
	}
	cm, err := s.ConfigMaps.ConfigMaps(s.Namespace).Get(ctx, s.Name(part), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s/%s: %w", s.Namespace, s.Name(part), ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("reading part %s/%s: %w", s.Namespace, s.Name(part), err)
	}
	if err := s.trust(cm, part); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cm.BinaryData))
	for name := range cm.BinaryData {
		if !fileName.MatchString(name) {
			return nil, fmt.Errorf("part %s/%s holds %q, not a metrics file; it was not written by autox: delete it", s.Namespace, cm.Name, name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	// Every file is read before any is written: a part is gathered
	// whole or not at all.
	files := make([][]byte, len(names))
	for i, name := range names {
		if files[i], err = unzip(cm.BinaryData[name]); err != nil {
			return nil, fmt.Errorf("part %s/%s, file %s: %w", s.Namespace, cm.Name, name, err)
		}
	}
	for i, name := range names {
		if err := atomicfile.Write(filepath.Join(dir, name), files[i]); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// trust checks that cm is this run's part: owned by the run's uid (as
// store.CheckOwner checks a result) and labelled as part.
func (s Store) trust(cm *corev1.ConfigMap, part string) error {
	if err := store.CheckOwner(cm, s.Run); err != nil {
		return errors.New(strings.Replace(err.Error(), "result ConfigMap", "part", 1))
	}
	if got := cm.Labels[Label]; got != part {
		return fmt.Errorf("part %s/%s is labelled %s=%q, not %q; it was not written by autox: delete it", cm.Namespace, cm.Name, Label, got, part)
	}
	return nil
}

func zip(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unzip reads at most MaxFileBytes: a gzip bomb is refused.
func unzip(z []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("more than %d bytes unzipped", MaxFileBytes)
	}
	return b, nil
}
