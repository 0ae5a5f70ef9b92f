package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/textutil"
)

// Role is what a user, session or API token may do: a fixed set of
// permissions, from the one table below.
type Role string

// The roles. Their order here is the order of listings and of help text.
const (
	// RoleAdmin may do everything, users and tokens included.
	RoleAdmin Role = "admin"
	// RoleEditor reads and changes the inventory and incidents.
	RoleEditor Role = "editor"
	// RoleViewer reads the inventory, incidents and the ledger.
	RoleViewer Role = "viewer"
	// RoleAuditor reads what a viewer reads, and the audit log.
	RoleAuditor Role = "auditor"
	// RoleGateway is for gateways' API tokens: read vendor gates (kill
	// switch, status), write the ledger. Nothing else.
	RoleGateway Role = "gateway"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleEditor, RoleViewer, RoleAuditor, RoleGateway}

// Permission is one thing a role may do. The HTTP layer maps each route to
// exactly one permission; the CLI, which works on the database directly,
// needs none.
type Permission string

// The permissions.
const (
	InventoryRead  Permission = "inventory:read"  // vendors, systems, flows, catalog, who-has, discovery drift
	InventoryWrite Permission = "inventory:write" // apply, edits, imports, the kill switch
	IncidentsRead  Permission = "incidents:read"  // incidents, timelines, clocks, blast radius counts
	IncidentsWrite Permission = "incidents:write" // open, update, contain, notify
	LedgerRead     Permission = "ledger:read"     // what the gateways recorded, per vendor and category
	AuditRead      Permission = "audit:read"      // the audit log and its verification
	UsersAdmin     Permission = "users:admin"     // users, roles, passwords, everyone's sessions and API tokens
	GatewayGates   Permission = "gateway:gates"   // read vendor gates: existence, status, block
	GatewayLedger  Permission = "gateway:ledger"  // write ledger entries and action counts
)

// grants is THE authorization table: for each permission, the roles that
// hold it and why. Role.Can reads nothing else. A new permission without a
// row here is held by no role (and fails TestPermissionMatrix).
//
// Admin holds every permission, the gateway's included: an admin can mint a
// gateway token anyway, so withholding them would protect nothing.
var grants = []struct {
	perm  Permission
	roles []Role
	why   string
}{
	{InventoryRead, []Role{RoleAdmin, RoleEditor, RoleViewer, RoleAuditor},
		"every person reads the inventory; a gateway needs only its gates"},
	{InventoryWrite, []Role{RoleAdmin, RoleEditor},
		"editors maintain the inventory and pull the kill switch"},
	{IncidentsRead, []Role{RoleAdmin, RoleEditor, RoleViewer, RoleAuditor},
		"incidents are read by everyone who reads the inventory"},
	{IncidentsWrite, []Role{RoleAdmin, RoleEditor},
		"editors run incidents: open, update, contain, notify"},
	{LedgerRead, []Role{RoleAdmin, RoleEditor, RoleViewer, RoleAuditor},
		"ledger summaries are evidence for the inventory; a gateway writes it but never reads it back"},
	{AuditRead, []Role{RoleAdmin, RoleAuditor},
		"the audit log names people and their actions: admins and auditors only"},
	{UsersAdmin, []Role{RoleAdmin},
		"who may log in, and as what, is for admins alone"},
	{GatewayGates, []Role{RoleAdmin, RoleGateway},
		"a gateway polls its vendors' gates every second"},
	{GatewayLedger, []Role{RoleAdmin, RoleGateway},
		"a gateway flushes what it forwarded; people do not write the ledger"},
}

// Permissions lists every permission, in the table's order.
func Permissions() []Permission {
	out := make([]Permission, len(grants))
	for i, g := range grants {
		out[i] = g.perm
	}
	return out
}

// Can reports whether the role holds the permission. Unknown roles and
// permissions hold nothing.
func (r Role) Can(p Permission) bool {
	for _, g := range grants {
		if g.perm == p {
			return slices.Contains(g.roles, r)
		}
	}
	return false
}

// Permissions lists what the role may do, in the table's order.
func (r Role) Permissions() []Permission {
	var out []Permission
	for _, g := range grants {
		if slices.Contains(g.roles, r) {
			out = append(out, g.perm)
		}
	}
	return out
}

// Within reports whether every permission of r is also one of o's: a
// token of role r may be made for a user of role o. Roles are not a
// ladder: an auditor is not within an editor, nor the other way around.
func (r Role) Within(o Role) bool {
	if !r.Valid() || !o.Valid() {
		return false
	}
	for _, p := range r.Permissions() {
		if !o.Can(p) {
			return false
		}
	}
	return true
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Why is the table's reason for the permission.
func (p Permission) Why() string {
	for _, g := range grants {
		if g.perm == p {
			return g.why
		}
	}
	return ""
}

// ParseRole reads a role name, case-insensitively, with a suggestion for a
// typo.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.Valid() {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown role %q%s: use one of %s", s, textutil.DidYouMean(string(r), names), strings.Join(names, ", "))
}

// Allows is the permission check of a request made with an API token: the
// token's role limits what its user may do, and the user's current role
// limits the token, so demoting a user demotes the tokens it holds.
func Allows(user, token Role, p Permission) bool { return user.Can(p) && token.Can(p) }
