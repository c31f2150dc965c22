package experiment

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

// InputError is bad input: every problem found, in the order of the file.
// Programs exit 2 on it.
type InputError struct {
	// Source names the input (a file name), may be empty.
	Source   string
	Problems []FieldError
}

func (e *InputError) Error() string {
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

// Fieldf makes an InputError with one problem.
func Fieldf(path, message string) *InputError {
	return &InputError{Problems: []FieldError{{Path: path, Message: message}}}
}

// IsInput reports whether err is (or wraps) bad input.
func IsInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// problems collects FieldErrors on the way down a tree.
type problems []FieldError

func (p *problems) add(path, message string) {
	*p = append(*p, FieldError{Path: path, Message: message})
}

func (p problems) err(source string) error {
	if len(p) == 0 {
		return nil
	}
	// A top-level setting inherited by several endpoints is reported once.
	seen := map[FieldError]bool{}
	var out []FieldError
	for _, fe := range p {
		if !seen[fe] {
			seen[fe] = true
			out = append(out, fe)
		}
	}
	return &InputError{Source: source, Problems: out}
}

// join builds a field path: "http" + "endpoints" -> "http.endpoints".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
