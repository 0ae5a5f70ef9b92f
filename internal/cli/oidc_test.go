package cli

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeOIDCFlags: single sign-on flags are checked before anything
// is opened, with errors that name the flag; a good set starts the server
// with the button on the login page, and the secret is never printed.
func TestServeOIDCFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weaklink.db")
	const secret = "oidc-secret-never-printed"
	issuer := []string{"--oidc-issuer", "https://login.example.com"}
	redirect := []string{"--oidc-redirect-url", "https://weaklink.example.com/auth/oidc/callback"}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{secret, []string{"--oidc-client-id", "weaklink"}, "the --oidc-* flags need --oidc-issuer"},
		{secret, issuer, "--oidc-issuer needs --oidc-client-id"},
		{secret, append(append([]string{}, issuer...), "--oidc-client-id", "weaklink"), "--oidc-issuer needs --oidc-redirect-url"},
		{"", append(append(append([]string{}, issuer...), redirect...), "--oidc-client-id", "weaklink"), "needs the client secret in $WEAKLINK_OIDC_CLIENT_SECRET"},
		{secret, append(append([]string{"--oidc-issuer", "http://login.example.com"}, redirect...), "--oidc-client-id", "weaklink"), "use https"},
		{secret, append(append(append([]string{}, issuer...), redirect...), "--oidc-client-id", "weaklink", "--oidc-default-role", "admin"), "may be viewer, auditor or editor"},
	} {
		t.Setenv(oidcSecretEnv, tc.env)
		var out, errOut bytes.Buffer
		code := Main(append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, tc.args...), strings.NewReader(""), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String()+out.String(), secret) {
			t.Errorf("%v: %d %q, want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}

	t.Setenv(oidcSecretEnv, secret)
	url, errOut, done := startServe(t, db, "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "weaklink",
		"--oidc-redirect-url", "http://127.0.0.1:8080/auth/oidc/callback", "--oidc-default-role", "Viewer")
	res, err := http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(body.String(), "Sign in with single sign-on") {
		t.Errorf("the login page lacks single sign-on: %.500s", body.String())
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(errOut.String(), secret) {
		t.Error("serve logged the client secret")
	}
}
