// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package experiment

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sandbox is a folder holding root/ (the step's root, with body.json,
// sub/inner.json and links) and secret.txt beside it, outside the root.
func sandbox(t *testing.T) (root, secret string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	secret = filepath.Join(dir, "secret.txt")
	for name, content := range map[string]string{
		secret:                                   "TOKEN",
		filepath.Join(root, "body.json"):         `{"a":1}`,
		filepath.Join(root, "sub", "inner.json"): `{"b":2}`,
		// A ConfigMap volume, as the kubelet writes it.
		filepath.Join(root, "..2026_11_27_09_00_00.1", "cm.json"): `{"c":3}`,
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"out-rel":  "../secret.txt", // relative, out of the root
		"out-abs":  secret,          // absolute, out of the root
		"in-rel":   "body.json",     // relative, stays in
		"sub-link": "sub",           // a folder, stays in
		"..data":   "..2026_11_27_09_00_00.1",
		"cm.json":  "..data/cm.json",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root, secret
}

func TestFilesRead(t *testing.T) {
	root, secret := sandbox(t)
	files, err := NewFiles([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	none, err := FilesFromEnv(func(string) (string, bool) { return "", true })
	if err != nil {
		t.Fatal(err)
	}
	gone, err := NewFiles([]string{"/nonexistent/autox/data"})
	if err != nil {
		t.Fatal(err)
	}
	outside := " is outside the files the step may read (" + root + "); put the file in the experiment's workspace data"
	viaLink := " leads outside the files the step may read (" + root + ") through a symbolic link; put the file itself in the experiment's workspace data"
	for _, tc := range []struct {
		name    string
		files   *Files
		path    string
		want    string
		wantErr string
	}{
		{"relative, from the root", files, "body.json", `{"a":1}`, ""},
		{"relative, in a subfolder", files, "sub/inner.json", `{"b":2}`, ""},
		{"absolute, inside", files, filepath.Join(root, "body.json"), `{"a":1}`, ""},
		{"'..' that stays inside", files, "sub/../body.json", `{"a":1}`, ""},
		{"a link that stays inside", files, "in-rel", `{"a":1}`, ""},
		{"through a linked folder", files, "sub-link/inner.json", `{"b":2}`, ""},
		{"a ConfigMap's key (links through ..data)", files, "cm.json", `{"c":3}`, ""},
		{"the pod's token", files, "/var/run/secrets/kubernetes.io/serviceaccount/token", "",
			`http.payloadFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"` + outside},
		{"absolute, outside", files, secret, "", `http.payloadFile: "` + secret + `"` + outside},
		{"'..' out of the root", files, "../secret.txt", "", `http.payloadFile: "../secret.txt"` + outside},
		{"'..' inside an absolute path", files, root + "/sub/../../secret.txt", "", `http.payloadFile: "` + root + `/sub/../../secret.txt"` + outside},
		{"a relative link out", files, "out-rel", "", `http.payloadFile: "out-rel"` + viaLink},
		{"an absolute link out", files, "out-abs", "", `http.payloadFile: "out-abs"` + viaLink},
		{"missing", files, "nope.json", "",
			`http.payloadFile: cannot read "` + filepath.Join(root, "nope.json") + `": no such file or directory; give a path relative to the experiment's workspace data (` + root + `)`},
		{"no roots: no file", none, "body.json", "",
			`http.payloadFile: "body.json" cannot be read: this step may read no files (no data workspace is bound); bind the experiment's data workspace and put the file there`},
		{"no Files (autox run): any file", nil, secret, "TOKEN", ""},
		{"the root is missing (a workspace not bound)", gone, "body.json", "",
			`http.payloadFile: cannot read "/nonexistent/autox/data/body.json": the folder /nonexistent/autox/data it must be in cannot be opened (no such file or directory); bind the experiment's data workspace`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.files.ReadFile("http.payloadFile", tc.path)
			if diff := cmp.Diff(tc.wantErr, errOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("content (-want +got):\n%s", diff)
			}
			if checkErr := tc.files.Check("http.payloadFile", tc.path); errOf(checkErr) != tc.wantErr {
				t.Errorf("Check = %v, want the error of ReadFile %q", checkErr, tc.wantErr)
			}
		})
	}
}

// TestFilesOpen: the proto compiler's accessor names the path, and a
// missing file is fs.ErrNotExist (so that the next import path is tried).
func TestFilesOpen(t *testing.T) {
	root, _ := sandbox(t)
	files, err := NewFiles([]string{"", root})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want, wantErr string }{
		{"sub/inner.json", `{"b":2}`, ""},
		{"../secret.txt", "", "open " + filepath.Join(filepath.Dir(root), "secret.txt") + ": outside the files the step may read (" + root + ")"},
		{"out-rel", "", "open " + filepath.Join(root, "out-rel") + ": leads outside the files the step may read (" + root + ") through a symbolic link"},
		{"nope.proto", "", "open " + filepath.Join(root, "nope.proto") + ": no such file or directory"},
	} {
		r, err := files.Open(tc.path)
		got := ""
		if err == nil {
			b, rerr := io.ReadAll(r)
			if rerr != nil {
				t.Fatal(rerr)
			}
			r.Close()
			got = string(b)
		}
		if diff := cmp.Diff([]string{tc.want, tc.wantErr}, []string{got, errOf(err)}); diff != "" {
			t.Errorf("Open(%q) (-want +got):\n%s", tc.path, diff)
		}
	}
	if _, err := files.Open("nope.proto"); !os.IsNotExist(err) {
		t.Errorf("Open of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestFilesCheckDir(t *testing.T) {
	root, secret := sandbox(t)
	files, err := NewFiles([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, wantErr string }{
		{"sub", ""},
		{"not-yet", ""}, // nothing is found in it
		{"..", `grpc.importPaths[0]: ".." is outside the files the step may read (` + root + `); put the file in the experiment's workspace data`},
		{"up", `grpc.importPaths[0]: "up" leads outside the files the step may read (` + root + `) through a symbolic link; put the file itself in the experiment's workspace data`},
	} {
		if diff := cmp.Diff(tc.wantErr, errOf(files.CheckDir("grpc.importPaths[0]", tc.path))); diff != "" {
			t.Errorf("CheckDir(%q) (-want +got):\n%s", tc.path, diff)
		}
	}
}

func TestFilesFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		value   string
		set     bool
		want    []string
		wantErr string
	}{
		{"unset: any file", "", false, nil, ""},
		{"set but empty: no file", "", true, []string{}, ""},
		{"two roots, cleaned", "/workspace/data/::/opt/protos", true, []string{"/workspace/data", "/opt/protos"}, ""},
		{"a relative root", "/workspace/data:data", true, nil,
			`AUTOX_FILE_ROOTS: "data" is not an absolute folder; list the folders the steps may read as absolute paths separated by ':', e.g. /workspace/data`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FilesFromEnv(func(k string) (string, bool) {
				if k != EnvFileRoots {
					t.Errorf("looked up %s", k)
				}
				return tc.value, tc.set
			})
			if diff := cmp.Diff(tc.wantErr, errOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, f.Roots()); diff != "" {
				t.Errorf("roots (-want +got):\n%s", diff)
			}
			if err == nil && (f == nil) != !tc.set {
				t.Errorf("Files = %v; want nil exactly when unset", f)
			}
		})
	}
}

// TestCheckTaskFiles: autox generate refuses what the Task could not read.
func TestCheckTaskFiles(t *testing.T) {
	e, err := Parse([]byte(`tasks: [http, grpc]
http:
  payloadFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  endpoints:
    a: {url: http://a/, payloadFile: body.json}
    b: {url: http://b/, payloadFile: ../b.json}
grpc:
  host: h:1
  call: a.B.C
  protoFile: protos/main.proto
  importPaths: [protos, /usr/include]
  insecure: false
  cacert: /etc/ssl/ca.pem
  endpoints:
    x: {dataFile: sub/../../x.json}
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `http.payloadFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" is an absolute path, and the Task reads files only from its data workspace; write the path relative to the workspace, e.g. payload.json, and put the file there
http.endpoints.b.payloadFile: "../b.json" leads out of the Task's data workspace, the only files the Task reads; write a path inside it, relative to it, e.g. payload.json
grpc.importPaths[1]: "/usr/include" is an absolute path, and the Task reads files only from its data workspace; write the path relative to the workspace, e.g. payload.json, and put the file there
grpc.cacert: "/etc/ssl/ca.pem" is an absolute path, and the Task reads files only from its data workspace; write the path relative to the workspace, e.g. payload.json, and put the file there
grpc.endpoints.x.dataFile: "sub/../../x.json" leads out of the Task's data workspace, the only files the Task reads; write a path inside it, relative to it, e.g. payload.json`
	if diff := cmp.Diff(want, errOf(e.CheckTaskFiles())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func errOf(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
