// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package parts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autox-tekton/autox/internal/atomicfile"
	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

// Pods is how many load pods a run of e has: the most workers of the
// load tasks it lists (http.workers, grpc.workers), at least 1. Worker
// pod i runs worker i of each task that has one.
func Pods(e *experiment.Experiment) int {
	n := 1
	for _, task := range []string{experiment.TaskHTTP, experiment.TaskGRPC} {
		if slices.Contains(e.Tasks, task) {
			n = max(n, e.Workers(task))
		}
	}
	return n
}

// Expand reads a -gather list: part names, comma-separated, where
// "workers" is every load pod's part (w1..w<Pods>).
func Expand(list string, e *experiment.Experiment) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		switch p = strings.TrimSpace(p); {
		case p == "":
		case p == "workers":
			for i := 1; i <= Pods(e); i++ {
				out = append(out, Worker(i))
			}
		case partName.MatchString(p):
			out = append(out, p)
		default:
			return nil, badinput.Field("-gather", fmt.Sprintf("%q is not a part; write ready, workers or w<i>, comma-separated", p))
		}
	}
	return out, nil
}

// Pod is what one pod of a run with workers does with its parts.
type Pod struct {
	Store Store
	// Dir is the pod's work folder (/autox).
	Dir string
	// Gather are the parts read into Dir first. A missing part is
	// logged: the steps after it find its files absent and say what
	// that means (a load step holds its load, assess names the worker).
	Gather []string
	// Keep, when set, is the part Dir's own files are kept as, after
	// the gathered ones are left out.
	Keep string
	// WorkersFile, when set, receives the load pods' indexes as a JSON
	// array ("1".."<Pods>"): the matrix of the run's load task.
	WorkersFile string
	// StartAtFile, when set, receives now + StartLead (RFC 3339): when
	// the load pods begin, together.
	StartAtFile string
	StartLead   time.Duration
	Log         *slog.Logger
}

// Run gathers, plans, then keeps.
func (p Pod) Run(ctx context.Context, e *experiment.Experiment) error {
	var gathered []string
	for _, part := range p.Gather {
		names, err := p.Store.Gather(ctx, part, p.Dir)
		switch {
		case errors.Is(err, ErrMissing):
			p.Log.Warn(fmt.Sprintf("part %s: none (%v): its pod failed or never ran", part, err))
			continue
		case err != nil:
			return err
		}
		gathered = append(gathered, names...)
		p.Log.Info(fmt.Sprintf("part %s: %s", part, strings.Join(names, ", ")))
	}
	if p.WorkersFile != "" {
		idx := make([]string, Pods(e))
		for i := range idx {
			idx[i] = strconv.Itoa(i + 1)
		}
		b, _ := json.Marshal(idx) // strings always encode
		if err := atomicfile.Write(p.WorkersFile, b); err != nil {
			return fmt.Errorf("writing the Tekton result workers: %w", err)
		}
		p.Log.Info(fmt.Sprintf("load pods: %d", len(idx)))
	}
	if p.StartAtFile != "" {
		at := time.Now().Add(p.StartLead).UTC().Format(time.RFC3339)
		if err := atomicfile.Write(p.StartAtFile, []byte(at)); err != nil {
			return fmt.Errorf("writing the Tekton result start-at: %w", err)
		}
		p.Log.Info("the load pods start at " + at)
	}
	if p.Keep == "" {
		return nil
	}
	kept, err := p.Store.Keep(ctx, p.Keep, p.Dir, gathered)
	if err != nil {
		return err
	}
	p.Log.Info(fmt.Sprintf("kept part %s in ConfigMap %s/%s: %s", p.Keep, p.Store.Namespace, p.Store.Name(p.Keep), strings.Join(kept, ", ")))
	return nil
}
