// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/autox-tekton/autox/internal/badinput"
)

// EnvFileRoots is how a Task tells its steps which folders they may read
// the experiment's files from (payloadFile, dataFile, protoFile and its
// imports, cacert): absolute folders separated by ':', e.g. the path of
// a bound workspace. Set but empty, no file may be read. Unset (autox run
// on a laptop), any file may.
const EnvFileRoots = "AUTOX_FILE_ROOTS"

// Files is where a step may read the experiment's files from.
//
// A nil *Files reads any path, as given (relative paths were taken from
// the experiment file's folder when it was loaded). Otherwise a relative
// path is taken from the first root, a path outside every root is
// refused, and every read goes through os.Root, so that neither '..' nor
// a symbolic link leads out of a root: in a Task, an experiment that
// names /var/run/secrets/... must not send the pod's token as a payload.
type Files struct {
	roots []string
}

// FilesFromEnv reads EnvFileRoots through lookup (os.LookupEnv in main):
// nil when it is unset.
func FilesFromEnv(lookup func(string) (string, bool)) (*Files, error) {
	v, ok := lookup(EnvFileRoots)
	if !ok {
		return nil, nil
	}
	return NewFiles(strings.Split(v, ":"))
}

// NewFiles allows the files under roots, each an absolute folder; empty
// entries are skipped, so no roots allow no file.
func NewFiles(roots []string) (*Files, error) {
	f := &Files{roots: []string{}}
	for _, r := range roots {
		if r == "" {
			continue
		}
		if !filepath.IsAbs(r) {
			return nil, badinput.Field(EnvFileRoots, fmt.Sprintf("%q is not an absolute folder; list the folders the steps may read as absolute paths separated by ':', e.g. /workspace/data", r))
		}
		f.roots = append(f.roots, filepath.Clean(r))
	}
	return f, nil
}

// Roots are the folders files may be read from; nil means any file.
func (f *Files) Roots() []string {
	if f == nil {
		return nil
	}
	return append([]string{}, f.roots...)
}

// ReadFile reads the file that the setting key names. Its error is a
// badinput.FieldError that names key, the path and the fix.
func (f *Files) ReadFile(key, path string) ([]byte, error) {
	r, err := f.open(key, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, f.cannotRead(key, f.full(path), err)
	}
	return b, nil
}

// Check says whether the file that the setting key names may be read,
// as ReadFile would, without reading it.
func (f *Files) Check(key, path string) error {
	r, err := f.open(key, path)
	if err != nil {
		return err
	}
	return r.Close()
}

// CheckDir says whether the folder that the setting key names (an import
// path) lies within the roots. A folder that does not exist is not an
// error: nothing is found in it.
func (f *Files) CheckDir(key, path string) error {
	if f == nil {
		return nil
	}
	at, ok := f.locate(path)
	if !ok {
		return f.outside(key, path)
	}
	root, err := os.OpenRoot(at.root)
	if err != nil {
		return f.noRoot(key, at, pathCause(err))
	}
	defer root.Close()
	if _, err := root.Stat(at.name); err != nil && escapes(err) {
		return f.viaLink(key, path)
	}
	return nil
}

// Open opens path for reading, within the roots; its errors are
// *fs.PathError that name the path (a missing file's wraps
// fs.ErrNotExist). It is the SourceAccessor of the proto compiler, so an
// import cannot lead out of the roots either.
func (f *Files) Open(path string) (io.ReadCloser, error) {
	if f == nil {
		return os.Open(path)
	}
	at, ok := f.locate(path)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: at.full, Err: fmt.Errorf("outside the files the step may read (%s)", f.describeRoots())}
	}
	r, err := f.openAt(at)
	if err != nil {
		var pe *fs.PathError
		if escapes(err) {
			err = fmt.Errorf("leads outside the files the step may read (%s) through a symbolic link", f.describeRoots())
		} else if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "open", Path: at.full, Err: err}
	}
	return r, nil
}

// open opens the file of setting key, with a badinput.FieldError on failure.
func (f *Files) open(key, path string) (*os.File, error) {
	if f == nil {
		r, err := os.Open(path)
		if err != nil {
			return nil, badinput.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", path, pathCause(err))}
		}
		return r, nil
	}
	at, ok := f.locate(path)
	if !ok {
		return nil, f.outside(key, path)
	}
	r, err := f.openAt(at)
	switch {
	case err == nil:
		return r, nil
	case escapes(err):
		return nil, f.viaLink(key, path)
	}
	var re *rootError
	if errors.As(err, &re) {
		return nil, f.noRoot(key, at, re.err)
	}
	return nil, f.cannotRead(key, at.full, err)
}

// place is where a path lies: its root, its name within and in full.
type place struct {
	root, name, full string
}

// locate finds the root that holds path, lexically: a relative path is
// taken from the first root, and '..' is resolved before the match.
func (f *Files) locate(path string) (place, bool) {
	full := path
	if !filepath.IsAbs(full) {
		if len(f.roots) == 0 {
			return place{full: path}, false
		}
		full = filepath.Join(f.roots[0], full)
	}
	full = filepath.Clean(full)
	for _, r := range f.roots {
		if rel, err := filepath.Rel(r, full); err == nil && filepath.IsLocal(rel) {
			return place{root: r, name: rel, full: full}, true
		}
	}
	return place{full: full}, false
}

// full is path as the step reads it, for messages.
func (f *Files) full(path string) string {
	if f == nil {
		return path
	}
	at, _ := f.locate(path)
	return at.full
}

// rootError is the failure to open a root itself.
type rootError struct{ err error }

func (e *rootError) Error() string { return "its folder cannot be opened: " + e.err.Error() }

// openAt opens the file through its root, which refuses every way out.
func (f *Files) openAt(at place) (*os.File, error) {
	root, err := os.OpenRoot(at.root)
	if err != nil {
		return nil, &rootError{err: pathCause(err)}
	}
	defer root.Close()
	return root.Open(at.name)
}

// escapes reports os.Root's refusal of a path that leads out of it (its
// error is not exported).
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent"
}

func (f *Files) describeRoots() string {
	if len(f.roots) == 0 {
		return "none"
	}
	return strings.Join(f.roots, ", ")
}

func (f *Files) outside(key, path string) error {
	if len(f.roots) == 0 {
		return badinput.FieldError{Path: key, Message: fmt.Sprintf("%q cannot be read: this step may read no files (no data workspace is bound); bind the experiment's data workspace and put the file there", path)}
	}
	return badinput.FieldError{Path: key, Message: fmt.Sprintf("%q is outside the files the step may read (%s); put the file in the experiment's workspace data", path, f.describeRoots())}
}

func (f *Files) viaLink(key, path string) error {
	return badinput.FieldError{Path: key, Message: fmt.Sprintf("%q leads outside the files the step may read (%s) through a symbolic link; put the file itself in the experiment's workspace data", path, f.describeRoots())}
}

func (f *Files) noRoot(key string, at place, err error) error {
	return badinput.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: the folder %s it must be in cannot be opened (%v); bind the experiment's data workspace", at.full, at.root, err)}
}

func (f *Files) cannotRead(key, full string, err error) error {
	if f == nil {
		return badinput.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment file, or an absolute one", full, pathCause(err))}
	}
	return badinput.FieldError{Path: key, Message: fmt.Sprintf("cannot read %q: %v; give a path relative to the experiment's workspace data (%s)", full, pathCause(err), f.roots[0])}
}

// addErr adds err, a badinput.FieldError (else a problem without a path).
func (p *problems) addErr(err error) {
	var fe badinput.FieldError
	if errors.As(err, &fe) {
		*p = append(*p, fe)
		return
	}
	p.add("", err.Error())
}

// pathCause is the reason of a *fs.PathError, without the path that the
// message already names.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// FileSource is a file the experiment names: the setting's path and the
// file's, as written.
type FileSource struct {
	Key, Path string
}

// FileSources lists the files the experiment names (payloadFile,
// protoFile, importPaths, dataFile, cacert), each at the level it is
// written, endpoints by name.
func (e *Experiment) FileSources() []FileSource {
	var out []FileSource
	add := func(key string, path *string) {
		if path != nil {
			out = append(out, FileSource{Key: key, Path: *path})
		}
	}
	if e.HTTP != nil {
		add("http.payloadFile", e.HTTP.PayloadFile)
		for _, name := range slices.Sorted(maps.Keys(e.HTTP.Endpoints)) {
			add("http.endpoints."+name+".payloadFile", e.HTTP.Endpoints[name].PayloadFile)
		}
	}
	if e.GRPC != nil {
		grpc := func(base string, s GRPCSettings) {
			add(base+".protoFile", s.ProtoFile)
			for i := range s.ImportPaths {
				add(fmt.Sprintf("%s.importPaths[%d]", base, i), &s.ImportPaths[i])
			}
			add(base+".dataFile", s.DataFile)
			add(base+".cacert", s.CACert)
		}
		grpc("grpc", e.GRPC.GRPCSettings)
		for _, name := range slices.Sorted(maps.Keys(e.GRPC.Endpoints)) {
			grpc("grpc.endpoints."+name, e.GRPC.Endpoints[name])
		}
	}
	return out
}

// CheckTaskFiles reports each file the experiment names that the Task
// could not read. A Trigger's experiment runs in the autox Task, which
// reads files only from its data workspace (AUTOX_FILE_ROOTS), a
// relative path from the workspace's folder; so an absolute path, or one
// that leads out of the workspace through '..', is bad input.
func (e *Experiment) CheckTaskFiles() error {
	var p problems
	for _, f := range e.FileSources() {
		switch {
		case filepath.IsAbs(f.Path):
			p.add(f.Key, fmt.Sprintf("%q is an absolute path, and the Task reads files only from its data workspace; write the path relative to the workspace, e.g. payload.json, and put the file there", f.Path))
		case !filepath.IsLocal(f.Path):
			p.add(f.Key, fmt.Sprintf("%q leads out of the Task's data workspace, the only files the Task reads; write a path inside it, relative to it, e.g. payload.json", f.Path))
		}
	}
	return p.err("")
}
