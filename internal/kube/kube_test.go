package kube

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNoClusterToTalkTo(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	_, err := Connect("")
	want := "no cluster to talk to: not in a pod and no kubeconfig; set KUBECONFIG, pass -kubeconfig, or write ~/.kube/config"
	if err == nil || err.Error() != want {
		t.Errorf("Connect = %v, want %q", err, want)
	}
}

func TestBrokenKubeconfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "config")
	os.WriteFile(f, []byte("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"), 0o600)
	_, err := Connect(f)
	if err == nil {
		t.Fatal("Connect with a context that does not exist succeeded")
	}
	if got := err.Error(); len(got) < 20 || got[:len("kubeconfig: cannot be used:")] != "kubeconfig: cannot be used:" {
		t.Errorf("Connect = %q, want it to start with kubeconfig: cannot be used:", got)
	}
}
