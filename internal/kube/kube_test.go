// Copyright 2026 The autox Authors
// SPDX-License-Identifier: Apache-2.0

package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// notInAPod keeps client-go from using the in-cluster configuration.
func notInAPod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
}

func TestConnect(t *testing.T) {
	notInAPod(t)
	dir := t.TempDir()
	cluster := write(t, filepath.Join(dir, "cluster"), `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: c, user: me, namespace: shop}}]
current-context: c
`)
	user := write(t, filepath.Join(dir, "user"), "apiVersion: v1\nkind: Config\nusers: [{name: me, user: {token: secret}}]\n")
	broken := write(t, filepath.Join(dir, "broken"), "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(home, ".kube", "config"), "apiVersion: v1\nkind: Config\nclusters: [{name: h, cluster: {server: \"https://127.0.0.1:7443\"}}]\ncontexts: [{name: h, context: {cluster: h, user: h}}]\nusers: [{name: h, user: {token: home}}]\ncurrent-context: h\n")
	list := strings.Join([]string{cluster, user}, string(os.PathListSeparator))

	type got struct{ Host, Token, Namespace, Err string }
	for _, tc := range []struct {
		name string
		kc   Kubeconfig
		want got
	}{
		{"KUBECONFIG merges its files", Kubeconfig{Files: list}, got{Host: "https://127.0.0.1:6443", Token: "secret", Namespace: "shop"}},
		{"KUBECONFIG skips a missing file", Kubeconfig{Files: filepath.Join(dir, "absent") + string(os.PathListSeparator) + list}, got{Host: "https://127.0.0.1:6443", Token: "secret", Namespace: "shop"}},
		{"KUBECONFIG wins over home", Kubeconfig{Files: list, Home: home}, got{Host: "https://127.0.0.1:6443", Token: "secret", Namespace: "shop"}},
		{"-kubeconfig wins over KUBECONFIG", Kubeconfig{File: filepath.Join(home, ".kube", "config"), Files: list}, got{Host: "https://127.0.0.1:7443", Token: "home", Namespace: "default"}},
		{"home without either", Kubeconfig{Home: home}, got{Host: "https://127.0.0.1:7443", Token: "home", Namespace: "default"}},
		{"-kubeconfig is one file", Kubeconfig{File: list}, got{Err: "-kubeconfig: cannot be used: stat " + list + ": no such file or directory; fix the kubeconfig or name another"}},
		{"a context that does not exist", Kubeconfig{File: broken}, got{Err: `-kubeconfig: cannot be used: invalid configuration: [context was not found for specified context: nowhere, cluster has no server defined]; fix the kubeconfig or name another`}},
		{"no file KUBECONFIG names exists", Kubeconfig{Files: filepath.Join(dir, "absent") + string(os.PathListSeparator) + filepath.Join(dir, "absent2"), Home: home}, got{Err: "KUBECONFIG: no cluster to talk to: not in a pod, and no file KUBECONFIG names exists (Config not found: " + filepath.Join(dir, "absent") + ", " + filepath.Join(dir, "absent2") + "); fix KUBECONFIG or pass -kubeconfig"}},
		{"no home kubeconfig", Kubeconfig{Home: t.TempDir()}, got{Err: "no cluster to talk to: not in a pod and no kubeconfig; set KUBECONFIG, pass -kubeconfig, or write ~/.kube/config"}},
		{"no home and no kubeconfig", Kubeconfig{}, got{Err: "no cluster to talk to: not in a pod and no kubeconfig; set KUBECONFIG, pass -kubeconfig, or write ~/.kube/config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g got
			c, err := Connect(tc.kc)
			if err != nil {
				g.Err = err.Error()
			} else {
				g = got{Host: c.Config.Host, Token: c.Config.BearerToken, Namespace: c.Namespace}
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
