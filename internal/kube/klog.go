// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"context"
	"log/slog"
	"strings"

	"k8s.io/klog/v2"
)

// LogClientTo sends client-go's log lines (klog) to log, which klog keeps
// for the whole process. Errors stay errors. klog hands a logger its
// warnings as info lines (klog.go: only ErrorLog maps to Error), and
// client-go logs nothing at info level without -v, so every other line is
// shown as a warning: an auth plugin that fails, a kubeconfig that is not
// found, a watch the API server ends. Only the known-harmless noise is
// dropped (see harmless); ctx is the program's, whose end (a stop signal)
// cuts every watch short.
func LogClientTo(ctx context.Context, log *slog.Logger) {
	klog.SetSlogLogger(slog.New(&klogHandler{next: log.Handler(), stopped: ctx.Done()}))
}

// klogHandler relabels and filters klog's records before the step's
// handler sees them.
type klogHandler struct {
	next    slog.Handler
	stopped <-chan struct{}
}

func (h *klogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, max(l, slog.LevelWarn))
}

func (h *klogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return nil // klog's V(n) lines, which only -v would show
	}
	text := r.Message
	r.Attrs(func(a slog.Attr) bool {
		text += " " + a.Value.String()
		return true
	})
	if harmless(text, h.isStopped()) {
		return nil
	}
	out := slog.NewRecord(r.Time, max(r.Level, slog.LevelWarn), "kubernetes client: "+r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *klogHandler) isStopped() bool {
	select {
	case <-h.stopped:
		return true
	default:
		return false
	}
}

func (h *klogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &klogHandler{next: h.next.WithAttrs(attrs), stopped: h.stopped}
}

func (h *klogHandler) WithGroup(name string) slog.Handler {
	return &klogHandler{next: h.next.WithGroup(name), stopped: h.stopped}
}

// harmless reports whether a klog line is noise that the step explains
// better itself: a list or watch cut short because a context of ours
// ended. The ready step watches under a context that ends at its timeout,
// and every context ends when the program is stopped. The reflector inside
// watchtools.UntilWithSync then logs the cut, e.g. "Failed to watch
// *unstructured.Unstructured: context deadline exceeded" (reflector.go,
// through utilruntime.HandleError), or, when stopped, "watch of
// *unstructured.Unstructured ended with: an error on the server (\"unable
// to decode an event from the watch stream: terminated signal received\")"
// (the stop's cause, not the server's). The step then says in its own
// words what was not ready and why, so the line only adds alarm.
func harmless(text string, stopped bool) bool {
	listWatch := strings.Contains(text, "Failed to watch") || strings.Contains(text, "failed to list") || strings.Contains(text, "watch of")
	cut := strings.Contains(text, context.DeadlineExceeded.Error()) || strings.Contains(text, context.Canceled.Error())
	return listWatch && (cut || stopped)
}
