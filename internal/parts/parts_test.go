// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package parts

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/autox-tekton/autox/internal/experiment"
	"github.com/autox-tekton/autox/internal/store"
)

var run = store.Owner{Kind: store.KindPipelineRun, Name: "autox-httpbin-iter8-1", UID: "uid-1"}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func read(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	return got
}

func TestKeepGather(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	s := Store{ConfigMaps: client.CoreV1(), Namespace: "autox", Run: run}

	// A load pod: it gathered ready's file, wrote its own, and keeps
	// only its own (not report.txt, not the gathered file).
	pod := t.TempDir()
	write(t, pod, map[string]string{
		"ready.metrics.json":   `{"task":"ready"}`,
		"http-w2.metrics.json": `{"task":"http","worker":{"index":2,"of":4}}` + strings.Repeat(" ", 100_000),
		"grpc.metrics.json":    `{"task":"grpc"}`,
		"report.txt":           "not a metrics file",
	})
	kept, err := s.Keep(ctx, Worker(2), pod, []string{"ready.metrics.json"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"grpc.metrics.json", "http-w2.metrics.json"}, kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	cm, err := client.CoreV1().ConfigMaps("autox").Get(ctx, "autox-httpbin-iter8-1-w2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Labels[Label] != "w2" || cm.OwnerReferences[0].UID != "uid-1" || len(cm.BinaryData["http-w2.metrics.json"]) > 1000 {
		t.Errorf("part ConfigMap: labels %v, owners %v, http-w2 %d bytes gzipped", cm.Labels, cm.OwnerReferences, len(cm.BinaryData["http-w2.metrics.json"]))
	}

	// A part is kept once: a second pod claiming it is refused, and the
	// first pod's files stay.
	write(t, pod, map[string]string{"grpc.metrics.json": `{"task":"grpc","second":true}`})
	if _, err := s.Keep(ctx, Worker(2), pod, []string{"ready.metrics.json"}); err == nil ||
		err.Error() != "part autox/autox-httpbin-iter8-1-w2 exists already: each part of a run is kept once, by its own pod; was this worker run twice?" {
		t.Errorf("keeping again: %v", err)
	}

	// assess gathers it, each file whole.
	assess := t.TempDir()
	names, err := s.Gather(ctx, Worker(2), assess)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"grpc.metrics.json":    `{"task":"grpc"}`,
		"http-w2.metrics.json": `{"task":"http","worker":{"index":2,"of":4}}` + strings.Repeat(" ", 100_000),
	}
	if diff := cmp.Diff(want, read(t, assess)); diff != "" {
		t.Errorf("gathered files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"grpc.metrics.json", "http-w2.metrics.json"}, names); diff != "" {
		t.Errorf("gathered (-want +got):\n%s", diff)
	}

	// A worker whose pod never kept anything.
	if _, err := s.Gather(ctx, Worker(3), assess); !errors.Is(err, ErrMissing) {
		t.Errorf("gathering a part never kept: %v, want ErrMissing", err)
	}
}

func TestGatherRefuses(t *testing.T) {
	ctx := context.Background()
	gz := func(s string) []byte {
		b, err := zip([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	part := func(mod func(*corev1.ConfigMap)) *corev1.ConfigMap {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "autox-httpbin-iter8-1-w1", Namespace: "autox", Labels: map[string]string{Label: "w1"},
				OwnerReferences: []metav1.OwnerReference{{Kind: store.KindPipelineRun, Name: run.Name, UID: "uid-1"}}},
			BinaryData: map[string][]byte{"http-w1.metrics.json": gz(`{"task":"http"}`)},
		}
		mod(cm)
		return cm
	}
	bomb := bytes.Repeat([]byte{0}, MaxFileBytes+1)
	for _, tc := range []struct {
		name string
		cm   *corev1.ConfigMap
		want string
	}{
		{"forged: another run's uid", part(func(cm *corev1.ConfigMap) { cm.OwnerReferences[0].UID = "uid-other" }),
			"part autox/autox-httpbin-iter8-1-w1 is not owned by PipelineRun autox/autox-httpbin-iter8-1 (owner uid uid-other, run uid uid-1); it was not written by this run: delete it"},
		{"forged: no owner", part(func(cm *corev1.ConfigMap) { cm.OwnerReferences = nil }),
			"part autox/autox-httpbin-iter8-1-w1 is not owned by PipelineRun autox/autox-httpbin-iter8-1 (it has no owner, run uid uid-1); it was not written by this run: delete it"},
		{"another part's", part(func(cm *corev1.ConfigMap) { cm.Labels[Label] = "w2" }),
			`part autox/autox-httpbin-iter8-1-w1 is labelled autox.dev/part="w2", not "w1"; it was not written by autox: delete it`},
		{"a path in a key", part(func(cm *corev1.ConfigMap) { cm.BinaryData["..metrics.json"] = gz("{}") }),
			`part autox/autox-httpbin-iter8-1-w1 holds "..metrics.json", not a metrics file; it was not written by autox: delete it`},
		{"not gzip", part(func(cm *corev1.ConfigMap) { cm.BinaryData["http-w1.metrics.json"] = []byte("{\"task\": \"http\"}") }),
			"part autox/autox-httpbin-iter8-1-w1, file http-w1.metrics.json: not gzip: gzip: invalid header"},
		{"a gzip bomb beside a good file", part(func(cm *corev1.ConfigMap) { cm.BinaryData["http-w2.metrics.json"] = gz(string(bomb)) }),
			"part autox/autox-httpbin-iter8-1-w1, file http-w2.metrics.json: more than 16777216 bytes unzipped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Store{ConfigMaps: fake.NewClientset(tc.cm).CoreV1(), Namespace: "autox", Run: run}
			dir := t.TempDir()
			_, err := s.Gather(ctx, Worker(1), dir)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
			if got := read(t, dir); len(got) != 0 {
				t.Errorf("wrote %v from a refused part", got)
			}
			// Nor is a part there overwritten by Keep.
			if _, err := s.Keep(ctx, Worker(1), dir, nil); err == nil || !strings.Contains(err.Error(), "exists already") {
				t.Errorf("keeping over a part there: %v", err)
			}
		})
	}
	// Bad names and a missing run are refused before any request.
	s := Store{ConfigMaps: fake.NewClientset().CoreV1(), Namespace: "autox", Run: run}
	for _, p := range []string{"w0", "w100", "../x", "", "result"} {
		if _, err := s.Gather(ctx, p, t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not ready or w<1..64>") {
			t.Errorf("part %q: %v", p, err)
		}
	}
	if _, err := (Store{ConfigMaps: s.ConfigMaps, Namespace: "autox"}).Keep(ctx, Ready, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "-pipelinerun-uid") {
		t.Errorf("keeping without a run: %v", err)
	}
}

func TestPodsAndExpand(t *testing.T) {
	four, two := 4, 2
	for _, tc := range []struct {
		name string
		e    experiment.Experiment
		pods int
		want []string
	}{
		{"one worker", experiment.Experiment{Tasks: []string{"ready", "http", "assess"}, HTTP: &experiment.HTTP{}}, 1, []string{"ready", "w1"}},
		{"http 4, grpc 2", experiment.Experiment{Tasks: []string{"http", "grpc"}, HTTP: &experiment.HTTP{Workers: &four}, GRPC: &experiment.GRPC{Workers: &two}}, 4, []string{"ready", "w1", "w2", "w3", "w4"}},
		{"http 4 not listed", experiment.Experiment{Tasks: []string{"grpc"}, HTTP: &experiment.HTTP{Workers: &four}, GRPC: &experiment.GRPC{Workers: &two}}, 2, []string{"ready", "w1", "w2"}},
	} {
		got, err := Expand("ready, workers", &tc.e)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || Pods(&tc.e) != tc.pods {
			t.Errorf("%s: %d pods, want %d; parts (-want +got):\n%s", tc.name, Pods(&tc.e), tc.pods, diff)
		}
	}
	if _, err := Expand("ready,result", &experiment.Experiment{}); err == nil || err.Error() != `-gather: "result" is not a part; write ready, workers or w<i>, comma-separated` {
		t.Errorf("Expand: %v", err)
	}
}

func TestPodPlans(t *testing.T) {
	four := 4
	e := &experiment.Experiment{Tasks: []string{"ready", "http", "assess"}, HTTP: &experiment.HTTP{Workers: &four}}
	client := fake.NewClientset()
	dir, results := t.TempDir(), t.TempDir()
	write(t, dir, map[string]string{"ready.metrics.json": `{"task":"ready"}`})
	p := Pod{
		Store: Store{ConfigMaps: client.CoreV1(), Namespace: "autox", Run: run}, Dir: dir, Gather: []string{Ready}, Keep: Ready,
		WorkersFile: filepath.Join(results, "workers"), StartAtFile: filepath.Join(results, "start-at"), StartLead: 15 * time.Second,
		Log: slog.New(slog.DiscardHandler),
	}
	before := time.Now()
	if err := p.Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := read(t, results)
	at, err := time.Parse(time.RFC3339, got["start-at"])
	if err != nil || at.Before(before.Add(14*time.Second)) || at.After(time.Now().Add(16*time.Second)) {
		t.Errorf("start-at %q (%v), want about 15s from now", got["start-at"], err)
	}
	if got["workers"] != `["1","2","3","4"]` {
		t.Errorf("workers %s", got["workers"])
	}
	cm, err := client.CoreV1().ConfigMaps("autox").Get(context.Background(), "autox-httpbin-iter8-1-ready", metav1.GetOptions{})
	if err != nil || len(cm.BinaryData) != 1 || cm.BinaryData["ready.metrics.json"] == nil {
		t.Errorf("ready part: %v, %v", cm, err)
	}
}
