package auth

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// policy is the intended authorization, written out by hand, apart from
// the table in role.go: a change to either without the other fails.
// Columns: admin editor viewer auditor gateway.
var policy = map[Permission]string{
	InventoryRead:  "X X X X .",
	InventoryWrite: "X X . . .",
	IncidentsRead:  "X X X X .",
	IncidentsWrite: "X X . . .",
	LedgerRead:     "X X X X .",
	AuditRead:      "X . . X .",
	UsersAdmin:     "X . . . .",
	GatewayGates:   "X . . . X",
	GatewayLedger:  "X . . . X",
}

// TestPermissionMatrix prints the table (go test -v -run Matrix) and
// checks every role and permission against the policy.
func TestPermissionMatrix(t *testing.T) {
	roles := []Role{RoleAdmin, RoleEditor, RoleViewer, RoleAuditor, RoleGateway}
	if !slices.Equal(roles, Roles) {
		t.Fatalf("Roles = %v: update the policy's columns", Roles)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s", "")
	for _, r := range roles {
		fmt.Fprintf(&b, " %-8s", r)
	}
	b.WriteString("\n")
	for _, p := range Permissions() {
		want, ok := policy[p]
		if !ok {
			t.Errorf("permission %s is not in the intended policy", p)
		}
		cols := strings.Fields(want)
		fmt.Fprintf(&b, "%-16s", p)
		for i, r := range roles {
			got := r.Can(p)
			mark := "."
			if got {
				mark = "X"
			}
			fmt.Fprintf(&b, " %-8s", mark)
			if ok && (len(cols) != len(roles) || cols[i] != mark) {
				t.Errorf("%s.Can(%s) = %v, the policy says %q", r, p, got, want)
			}
		}
		b.WriteString("\n")
		if p.Why() == "" {
			t.Errorf("permission %s has no reason in the table", p)
		}
	}
	t.Logf("the authorization table:\n%s", b.String())
	if len(policy) != len(Permissions()) {
		t.Errorf("the policy has %d permissions, the table %d", len(policy), len(Permissions()))
	}
	// Unknown roles and permissions hold nothing.
	for _, p := range Permissions() {
		if Role("root").Can(p) || Role("").Can(p) || Role("Admin").Can(p) {
			t.Errorf("an unknown role holds %s", p)
		}
	}
	if RoleAdmin.Can("users:everything") {
		t.Error("admin holds a permission not in the table")
	}
	// Every permission appears once in the table.
	seen := map[Permission]bool{}
	for _, p := range Permissions() {
		if seen[p] {
			t.Errorf("permission %s appears twice", p)
		}
		seen[p] = true
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		r, o Role
		want bool
	}{
		{RoleViewer, RoleAdmin, true},
		{RoleViewer, RoleEditor, true},
		{RoleViewer, RoleAuditor, true},
		{RoleViewer, RoleViewer, true},
		{RoleEditor, RoleViewer, false},
		{RoleAuditor, RoleEditor, false},
		{RoleEditor, RoleAuditor, false},
		{RoleGateway, RoleAdmin, true},
		{RoleGateway, RoleEditor, false},
		{RoleViewer, RoleGateway, false},
		{RoleAdmin, RoleEditor, false},
		{RoleAdmin, RoleAdmin, true},
		{"root", RoleAdmin, false},
		{RoleViewer, "root", false},
	}
	for _, tt := range tests {
		if got := tt.r.Within(tt.o); got != tt.want {
			t.Errorf("%s.Within(%s) = %v, want %v", tt.r, tt.o, got, tt.want)
		}
	}
}

func TestAllows(t *testing.T) {
	// A gateway token of an admin does a gateway's work only.
	if !Allows(RoleAdmin, RoleGateway, GatewayLedger) || Allows(RoleAdmin, RoleGateway, InventoryRead) {
		t.Error("gateway token of an admin")
	}
	// An admin's admin token loses its power when the admin is demoted.
	if Allows(RoleViewer, RoleAdmin, InventoryWrite) || !Allows(RoleViewer, RoleAdmin, InventoryRead) {
		t.Error("admin token of a demoted user")
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"admin", "Editor", " viewer ", "AUDITOR", "gateway"} {
		if _, err := ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	_, err := ParseRole("editr")
	if err == nil || !strings.Contains(err.Error(), `did you mean "editor"`) || !strings.Contains(err.Error(), "admin, editor, viewer, auditor, gateway") {
		t.Errorf("ParseRole(editr) = %v", err)
	}
	if _, err := ParseRole(""); err == nil {
		t.Error("empty role accepted")
	}
}

func TestNormalizeUsername(t *testing.T) {
	good := map[string]string{"Ada": "ada", "ada.lovelace@acme.ai": "ada.lovelace@acme.ai", "gw-eu-1": "gw-eu-1", "a": "a", "x_y": "x_y"}
	for in, want := range good {
		if got, err := NormalizeUsername(in); err != nil || got != want {
			t.Errorf("NormalizeUsername(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-ada", "ada-", "a b", "a\nb", "ädä", strings.Repeat("a", 65), "../etc", "ada:1"} {
		if got, err := NormalizeUsername(in); err == nil {
			t.Errorf("NormalizeUsername(%q) = %q, want an error", in, got)
		}
	}
}
