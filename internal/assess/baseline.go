// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package assess

import (
	"context"
	"errors"
	"fmt"

	"github.com/autox-tekton/autox/internal/history"
	"github.com/autox-tekton/autox/internal/result"
)

// Baseline is what a regression is judged against: the result of the
// last version that passed, or a note that says why there is none.
type Baseline struct {
	Result *result.Result
	Of     result.Baseline
	// Note says why Result is nil.
	Note string
}

// FromHistory finds the baseline of group/spec in the history autox
// keeps: the newest run that passed other than run (this one). No
// history, or none passed, is no baseline (a first version); a history
// that cannot be read is an error.
func FromHistory(ctx context.Context, s history.Store, group, spec, run string) (Baseline, error) {
	if group == "" || spec == "" {
		return Baseline{Note: "no baseline: this run has no group and spec (-group, -spec) to find its history by"}, nil
	}
	h, err := s.Load(ctx, group, spec)
	if errors.Is(err, history.ErrNone) {
		return Baseline{Note: fmt.Sprintf("no baseline: %s/%s has no history yet (a first version)", group, spec)}, nil
	}
	if err != nil {
		return Baseline{}, err
	}
	e, ok := h.Baseline(run)
	if !ok {
		return Baseline{Note: fmt.Sprintf("no baseline: none of the %d versions kept for %s/%s passed", len(h.Entries), group, spec)}, nil
	}
	r, err := h.Result(e)
	if err != nil {
		return Baseline{}, fmt.Errorf("the baseline, version %s (run %s): %w", e.Version, e.Run, err)
	}
	return Baseline{Result: r, Of: result.Baseline{Version: e.Version, Run: e.Run, EndTime: e.EndTime}}, nil
}

// FromFile reads a baseline result file (autox run --baseline): the
// version is the file's name unless version names it.
func FromFile(path, version string) (Baseline, error) {
	r, err := result.Read(path)
	if err != nil {
		return Baseline{}, err
	}
	if version == "" {
		version = path
	}
	return Baseline{Result: r, Of: result.Baseline{Version: version, EndTime: r.EndTime}}, nil
}
