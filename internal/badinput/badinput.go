// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

// Package badinput is the error of bad input: every problem found in an
// experiment, a flag, a file or a request, each with the path of its
// field, what is wrong and how to fix it. Programs exit 2 on it
// (internal/outcome). It imports only the standard library, so that every
// package can return it without linking what finds the problems.
package badinput

import (
	"errors"
	"strings"
)

// FieldError is one problem with the input: the field's path, what is
// wrong with its value and how to fix it, in one sentence.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Error is bad input: every problem found, in the order of the input.
type Error struct {
	// Source names the input (a file name), may be empty.
	Source   string
	Problems []FieldError
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if e.Source != "" {
			lines[i] = e.Source + ": " + p.Error()
		} else {
			lines[i] = p.Error()
		}
	}
	return strings.Join(lines, "\n")
}

// Field makes an Error with one problem.
func Field(path, message string) *Error {
	return &Error{Problems: []FieldError{{Path: path, Message: message}}}
}

// Is reports whether err is (or wraps) bad input.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
