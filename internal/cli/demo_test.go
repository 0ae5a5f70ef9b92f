package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs `weaklink demo` as a real process, as the README's first
// command does: it starts, prints a URL and a one-time admin login, serves
// the login page, lets the admin in, holds the example inventory, a ledger
// with the replayed traffic and the open Mixpanel incident, and stops
// cleanly on Ctrl-C (SIGINT), removing its temporary directory.
func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGatewayProcess$")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "WEAKLINK_DB=",
		"WEAKLINK_HELPER_ARGS="+strings.Join([]string{"demo", "--addr", "127.0.0.1:0"}, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// What the demo prints, up to "Press Ctrl-C".
	info := map[string]string{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	timeout := time.After(60 * time.Second)
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the demo ended before it was ready; stderr:\n%s", stderr.String())
			}
			for _, k := range []string{"Web UI", "Password", "Database", "Incident", "Gateway"} {
				if v, ok := strings.CutPrefix(strings.TrimSpace(l), k); ok {
					info[k] = strings.Fields(v)[0]
				}
			}
			if strings.Contains(l, "Press Ctrl-C") {
				break read
			}
		case <-timeout:
			t.Fatalf("the demo did not start in 60 s; stderr:\n%s", stderr.String())
		}
	}
	t.Logf("demo ready in %v: %v", time.Since(start).Round(time.Millisecond), info)
	site := strings.TrimSuffix(info["Web UI"], "/")
	if !strings.HasPrefix(site, "http://127.0.0.1:") || info["Password"] == "" {
		t.Fatalf("no URL or password in the output: %v", info)
	}
	if !strings.HasPrefix(info["Database"], tmp) {
		t.Errorf("database %q is not in the temporary directory %s", info["Database"], tmp)
	}

	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path, cookie string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", site+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	// The first page: the root sends a visitor to the login form.
	res, _ := get("/", "")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("GET /: %s to %q", res.Status, res.Header.Get("Location"))
	}
	res, body := get("/login", "")
	if res.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
		t.Fatalf("GET /login: %s\n%.500s", res.Status, body)
	}

	// The printed login works.
	form := url.Values{"username": {"admin"}, "password": {info["Password"]}, "next": {"/vendors/mixpanel"}}
	req, _ := http.NewRequest("POST", site+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", site)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "__Host-weaklink_session" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if res.StatusCode != http.StatusSeeOther || cookie == "" {
		t.Fatalf("POST /login: %s, cookie %q", res.Status, cookie)
	}
	cookie = changeOneTimePassword(t, client, site, cookie, info["Password"])

	res, body = get("/dashboard", cookie)
	if res.StatusCode != 200 || !strings.Contains(body, "Mixpanel: analytics dataset exported") || !strings.Contains(body, "data-countdown=") {
		t.Fatalf("GET /dashboard: %s, no incident with a running clock\n%.500s", res.Status, body)
	}
	res, body = get("/vendors/mixpanel", cookie)
	if res.StatusCode != 200 || !strings.Contains(body, "Mixpanel") {
		t.Fatalf("GET /vendors/mixpanel: %s\n%.500s", res.Status, body)
	}
	// The ledger holds the five replayed users, and the incident is open.
	var ledger struct {
		Subjects int64 `json:"subjects"`
	}
	res, body = get("/api/v1/ledger/mixpanel", cookie)
	if err := json.Unmarshal([]byte(body), &ledger); res.StatusCode != 200 || err != nil {
		t.Fatalf("ledger: %s %v\n%.300s", res.Status, err, body)
	}
	if ledger.Subjects != int64(len(demoPeople)) {
		t.Errorf("ledger subjects %d, want %d", ledger.Subjects, len(demoPeople))
	}
	res, body = get("/api/v1/incidents", cookie)
	if res.StatusCode != 200 || !strings.Contains(body, `"vendor":"mixpanel"`) && !strings.Contains(body, `"vendor": "mixpanel"`) {
		t.Fatalf("incidents: %s\n%.300s", res.Status, body)
	}

	// Ctrl-C: a clean stop that removes the temporary directory.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the demo exited with %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not stop within 20 s of SIGINT")
	}
	if _, err := os.Stat(info["Database"]); !os.IsNotExist(err) {
		t.Errorf("the demo's database is still there after it stopped: %v", err)
	}
}

// changeOneTimePassword checks that the demo's one-time password leads
// to the change form, chooses a new password there, and returns the new
// session's cookie.
func changeOneTimePassword(t *testing.T, client *http.Client, site, cookie, old string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", site+"/vendors/mixpanel", nil)
	req.Header.Set("Cookie", cookie)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/password") {
		t.Fatalf("the one-time password did not lead to the change form: %s to %q", res.Status, res.Header.Get("Location"))
	}
	const chosen = "a long passphrase of my own choosing"
	form := url.Values{"current_password": {old}, "new_password": {chosen}, "confirm_password": {chosen}, "next": {"/dashboard"}}
	req, _ = http.NewRequest("POST", site+"/account/password", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", site)
	req.Header.Set("Cookie", cookie)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("changing the password: %s", res.Status)
	}
	for _, c := range res.Cookies() {
		if c.Name == "__Host-weaklink_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no new session after the password change")
	return ""
}
