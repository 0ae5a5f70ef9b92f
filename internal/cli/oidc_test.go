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
		{secret, append(append(append([]string{}, issuer...), redirect...), "--oidc-client-id", "weaklink", "--oidc-default-role", "editor"), "needs an allowed domain (--oidc-allowed-domain)"},
		{secret, []string{"--oidc-link-existing"}, "the --oidc-* flags need --oidc-issuer"},
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
		"--oidc-redirect-url", "http://127.0.0.1:8080/auth/oidc/callback", "--oidc-default-role", "Viewer", "--oidc-allowed-domain", "example.com",
		"--oidc-link-existing")
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

// TestUsersLinkSSO: an admin links an account at the provider to a user,
// lists and removes the link; a second link of the same account, or of
// the same user at the same issuer, is refused and changes nothing; the
// audit log records links with the operating-system user as the actor.
func TestUsersLinkSSO(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		const idp = "https://login.example.com/realms/acme"
		ok(t, db, "users", "add", "ada", "--role", "admin")
		ok(t, db, "users", "add", "grace", "--role", "editor")
		if out := ok(t, db, "users", "link-sso", "Ada", "--issuer", idp, "--subject", "f3a9-ada"); out != "Linked f3a9-ada at "+idp+" to user ada.\n" {
			t.Errorf("link-sso: %q", out)
		}
		refused(t, db, 1, "linked to user ada already", "", "users", "link-sso", "grace", "--issuer", idp, "--subject", "f3a9-ada")
		refused(t, db, 1, "user ada is linked to another identity", "", "users", "link-sso", "ada", "--issuer", idp, "--subject", "other")
		refused(t, db, 1, "give the provider's issuer URL exactly", "", "users", "link-sso", "ada", "--issuer", "login.example.com", "--subject", "x")
		refused(t, db, 1, "subject: give the account's sub claim", "", "users", "link-sso", "grace", "--issuer", idp, "--subject", strings.Repeat("s", 256))
		refused(t, db, 1, "not found", "", "users", "link-sso", "nobody", "--issuer", idp, "--subject", "x")
		if out := ok(t, db, "users", "sso", "ada"); !strings.Contains(out, idp) || !strings.Contains(out, "f3a9-ada") {
			t.Errorf("users sso:\n%s", out)
		}
		if audit := ok(t, db, "audit", "list", "--format", "json"); !strings.Contains(audit, `"action": "link"`) || !strings.Contains(audit, `f3a9-ada`) {
			t.Errorf("audit list:\n%s", audit)
		}
		if out := ok(t, db, "users", "unlink-sso", "ada", "--issuer", idp); !strings.Contains(out, "Unlinked user ada") {
			t.Errorf("unlink-sso: %q", out)
		}
		refused(t, db, 1, "has no identity at", "", "users", "unlink-sso", "ada", "--issuer", idp)
		ok(t, db, "users", "link-sso", "grace", "--issuer", idp, "--subject", "f3a9-ada")
	})
}
