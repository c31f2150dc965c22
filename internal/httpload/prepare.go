// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package httpload

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/autox-tekton/autox/internal/badinput"
	"github.com/autox-tekton/autox/internal/experiment"
)

// Prepare loads every endpoint's payload, reading any file (see
// experiment.Files): payloadFile is read, payloadURL fetched (never from
// a link-local address, see experiment.Fetch). It returns copies of eps
// with Payload set. Its errors are bad input, every problem reported, so
// that all of them are found before any load is sent.
func Prepare(ctx context.Context, client *http.Client, eps []experiment.HTTPEndpoint) ([]experiment.HTTPEndpoint, error) {
	return PrepareWithin(ctx, client, nil, eps)
}

// PrepareWithin is Prepare reading payloadFile only within files: a file
// outside them is bad input.
func PrepareWithin(ctx context.Context, client *http.Client, files *experiment.Files, eps []experiment.HTTPEndpoint) ([]experiment.HTTPEndpoint, error) {
	var problems []badinput.FieldError
	out := slices.Clone(eps)
	for i := range out {
		ep := &out[i]
		switch {
		case ep.PayloadFile != "":
			b, err := files.ReadFile(ep.Path+".payloadFile", ep.PayloadFile)
			if err != nil {
				var fe badinput.FieldError
				if !errors.As(err, &fe) {
					fe = badinput.FieldError{Path: ep.Path + ".payloadFile", Message: err.Error()}
				}
				problems = append(problems, fe)
				continue
			}
			ep.Payload = b
		case ep.PayloadURL != "":
			b, err := experiment.Fetch(ctx, client, ep.PayloadURL)
			if err != nil {
				problems = append(problems, badinput.FieldError{Path: ep.Path + ".payloadURL", Message: err.Error()})
				continue
			}
			ep.Payload = b
		}
	}
	if len(problems) > 0 {
		return nil, &badinput.Error{Problems: problems}
	}
	return out, nil
}
