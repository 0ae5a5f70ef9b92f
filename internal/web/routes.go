package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
)

// Access markers for routes that need no permission of the table in
// internal/auth. Every route names a permission or one of these; a route
// with neither is refused when the server is built (New).
const (
	// Public routes need no credentials: health, the OpenAPI document,
	// login.
	Public auth.Permission = "public"
	// Authenticated routes need a valid session or API token of any role:
	// who am I, logout, metrics.
	Authenticated auth.Permission = "authenticated"
)

// Route is one endpoint. The route table (routes) is the one place that
// says which endpoints exist, who may call them, and what they take and
// return: the mux is built from it, the authorization middleware reads
// Perm from it, and the OpenAPI document is generated from it.
type Route struct {
	Method string
	// Path is a net/http pattern path; {name} segments are path
	// parameters and must each be declared in Params.
	Path string
	// Perm is the permission the caller needs (auth.Allows of its user's
	// and token's roles), or Public or Authenticated.
	Perm auth.Permission
	// ID is the OpenAPI operationId: unique, lowerCamelCase.
	ID      string
	Summary string
	// Tag groups routes in the document.
	Tag    string
	Params []Param
	// Request names the schema of the JSON body ("" for none);
	// BodyOptional allows an empty body.
	Request      string
	BodyOptional bool
	// Response names the schema of the success body: a name of
	// schemaTypes, "[]Name" for a list, "" for none (204).
	Response string
	// Status is the success status (0: 200, or 204 without Response).
	Status int
	// Paged routes take limit and offset and answer with X-Total-Count
	// and a Link to the next page.
	Paged bool
	// Errors lists the statuses beyond the ones every route of its kind
	// can answer (400 for bad input, 401, 403), for the document.
	Errors []int
	// Produces is the media type of a body that is not JSON.
	Produces string

	json func(*Server, *call) (any, error)
	raw  func(*Server, *call)
}

// Param is a path or query parameter.
type Param struct {
	Name string
	In   string // "path" or "query"
	// Type is string, integer or boolean.
	Type     string
	Desc     string
	Required bool
	Enum     []string
	// Multi query parameters may be given several times (?vendor=a&vendor=b).
	Multi bool
}

func pathParam(name, desc string) Param {
	return Param{Name: name, In: "path", Type: "string", Desc: desc, Required: true}
}

func query(name, desc string, enum ...string) Param {
	return Param{Name: name, In: "query", Type: "string", Desc: desc, Enum: enum}
}

func queryInt(name, desc string) Param {
	return Param{Name: name, In: "query", Type: "integer", Desc: desc}
}

func queryBool(name, desc string) Param {
	return Param{Name: name, In: "query", Type: "boolean", Desc: desc}
}

// Pagination: limit and offset, for Paged routes.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

var pageParams = []Param{
	queryInt("limit", fmt.Sprintf("page size: 1 to %d (default %d)", maxLimit, defaultLimit)),
	queryInt("offset", "items to skip (default 0); follow the Link header's rel=\"next\" instead of counting"),
}

func vendorSortKeys() []string {
	var out []string
	for _, k := range []string{"id", "name", "category", "status", "criticality", "owner", "updated_at"} {
		out = append(out, k, "-"+k)
	}
	return out
}

func statuses() []string {
	out := make([]string, len(incident.Statuses))
	for i, s := range incident.Statuses {
		out[i] = string(s)
	}
	return out
}

// routes is THE route table.
var routes = []Route{
	// Health and the document itself.
	{Method: "GET", Path: "/healthz", Perm: Public, ID: "healthz", Tag: "operations",
		Summary: "Liveness: the process is up", Response: "Health", json: (*Server).healthz},
	{Method: "GET", Path: "/readyz", Perm: Public, ID: "readyz", Tag: "operations",
		Summary: "Readiness: the database answers a query", Response: "Health", Errors: []int{503}, json: (*Server).readyz},
	{Method: "GET", Path: "/metrics", Perm: Authenticated, ID: "metrics", Tag: "operations",
		Summary: "Prometheus metrics (also without credentials on --metrics-addr)", Produces: "text/plain", raw: (*Server).metricsRoute},
	{Method: "GET", Path: "/api/v1/openapi.json", Perm: Public, ID: "openapi", Tag: "operations",
		Summary: "This API's OpenAPI 3.1 document, generated from the route table", Produces: "application/json", raw: (*Server).openAPIRoute},

	// Who am I.
	{Method: "POST", Path: "/api/v1/login", Perm: Public, ID: "login", Tag: "auth",
		Summary: "Log in with a user name and password: a session (cookie, and its secret for API clients)",
		Request: "LoginRequest", Response: "LoginResponse", Errors: []int{401, 429}, json: (*Server).login},
	{Method: "POST", Path: "/api/v1/logout", Perm: Authenticated, ID: "logout", Tag: "auth",
		Summary: "End the session the request was made with", json: (*Server).logout},
	{Method: "GET", Path: "/api/v1/me", Perm: Authenticated, ID: "me", Tag: "auth",
		Summary: "Who the request acts as, and what it may do", Response: "Me", json: (*Server).me},
	{Method: "POST", Path: "/api/v1/me/password", Perm: Authenticated, ID: "changeMyPassword", Tag: "auth",
		Summary: "Change your own password (a session's, not a token's): every session of yours ends, a new one starts (account.go)",
		Request: "PasswordChange", Response: "LoginResponse", Errors: []int{429}, json: (*Server).changeMyPassword},

	// Inventory.
	{Method: "GET", Path: "/api/v1/vendors", Perm: auth.InventoryRead, ID: "listVendors", Tag: "inventory",
		Summary: "List vendors", Response: "[]Vendor", Paged: true,
		Params: []Param{
			query("status", "only vendors with this lifecycle status", inventory.VendorStatuses...),
			query("category", "only vendors in this category", inventory.VendorCategories...),
			query("tag", "only vendors with this tag"),
			query("q", "only vendors whose id, name or description contains this text (case-insensitive)"),
			query("sort", "order by this key, descending with a leading - (default id)", vendorSortKeys()...),
		},
		json: (*Server).listVendors},
	{Method: "GET", Path: "/api/v1/vendors/{id}", Perm: auth.InventoryRead, ID: "getVendor", Tag: "inventory",
		Summary: "A vendor, the flows into it, who names it as a subprocessor, and the categories it receives",
		Params:  []Param{pathParam("id", "vendor id")}, Response: "VendorDetail", Errors: []int{404}, json: (*Server).getVendor},
	{Method: "POST", Path: "/api/v1/vendors/{id}/block", Perm: auth.InventoryWrite, ID: "blockVendor", Tag: "inventory",
		Summary: "Kill switch: gateways stop forwarding to the vendor within about a second",
		Params:  []Param{pathParam("id", "vendor id")}, Request: "BlockRequest", BodyOptional: true, Response: "Block",
		Errors: []int{404}, json: (*Server).blockVendor},
	{Method: "DELETE", Path: "/api/v1/vendors/{id}/block", Perm: auth.InventoryWrite, ID: "unblockVendor", Tag: "inventory",
		Summary: "Let gateways forward to a blocked vendor again", Params: []Param{pathParam("id", "vendor id")},
		Errors: []int{404}, json: (*Server).unblockVendor},
	{Method: "GET", Path: "/api/v1/systems", Perm: auth.InventoryRead, ID: "listSystems", Tag: "inventory",
		Summary: "List internal systems", Response: "[]System", Paged: true, json: (*Server).listSystems},
	{Method: "GET", Path: "/api/v1/systems/{id}", Perm: auth.InventoryRead, ID: "getSystem", Tag: "inventory",
		Summary: "A system and the data flows it sends", Params: []Param{pathParam("id", "system id")},
		Response: "SystemDetail", Errors: []int{404}, json: (*Server).getSystem},
	{Method: "GET", Path: "/api/v1/flows", Perm: auth.InventoryRead, ID: "listFlows", Tag: "inventory",
		Summary: "List data flows from systems to vendors", Response: "[]Flow", Paged: true,
		Params: []Param{
			query("vendor", "only flows to this vendor"),
			query("system", "only flows from this system"),
			query("source", "only flows known from this source", inventory.Sources...),
			query("category", "only flows carrying this data category, one below it, or one above it (a parent key stands for its children)"),
		},
		json: (*Server).listFlows},
	{Method: "GET", Path: "/api/v1/flows/{id}", Perm: auth.InventoryRead, ID: "getFlow", Tag: "inventory",
		Summary: "A data flow: its categories, purpose, source and evidence", Params: []Param{pathParam("id", "flow id")},
		Response: "Flow", Errors: []int{404}, json: (*Server).getFlow},
	{Method: "GET", Path: "/api/v1/data/who-has", Perm: auth.InventoryRead, ID: "whoHas", Tag: "inventory",
		Summary:  "Which vendors receive a data category, directly or as subprocessors, and by which paths",
		Params:   []Param{{Name: "category", In: "query", Type: "string", Desc: "a taxonomy key (user.contact.email)", Required: true}},
		Response: "WhoHas", json: (*Server).whoHas},
	{Method: "GET", Path: "/api/v1/inventory", Perm: auth.InventoryRead, ID: "exportInventory", Tag: "inventory",
		Summary: "Export the inventory as weaklink export does: YAML (inventory-as-code), JSON, CSV or a CycloneDX 1.6 BOM (inventory_io.go)",
		Params: []Param{
			query("format", "yaml (default), json (with store metadata), csv or cyclonedx", "yaml", "json", "csv", "cyclonedx"),
			query("kind", "with format=csv: the table (default vendors)", "vendors", "systems", "flows"),
			queryBool("strict_fideslang", "with format=cyclonedx: weaklink's extension categories as their upstream fideslang parents"),
		},
		Produces: "application/yaml", raw: (*Server).getInventory},
	{Method: "POST", Path: "/api/v1/inventory/plan", Perm: auth.InventoryWrite, ID: "planInventory", Tag: "inventory",
		Summary:  "What applying an inventory document (YAML or JSON body, as apply -f reads) would change; changes nothing",
		Params:   []Param{queryBool("prune", "plan deleting the stored objects the document leaves out")},
		Response: "InventoryPlan", Errors: []int{413, 415}, json: (*Server).planInventory},
	{Method: "POST", Path: "/api/v1/inventory/apply", Perm: auth.InventoryWrite, ID: "applyInventory", Tag: "inventory",
		Summary: "Apply an inventory document (YAML or JSON body) in one transaction, as weaklink apply -f does",
		Params: []Param{
			queryBool("prune", "delete the stored objects the document leaves out"),
			queryInt("version", "apply only if the inventory is still at this version (a plan's version); 409 otherwise"),
		},
		Response: "InventoryPlan", Errors: []int{409, 413, 415}, json: (*Server).applyInventory},
	{Method: "GET", Path: "/api/v1/ledger/{vendor}", Perm: auth.LedgerRead, ID: "ledger", Tag: "inventory",
		Summary: "What a vendor received through the gateways, by data category", Params: []Param{pathParam("vendor", "vendor id")},
		Response: "LedgerSummary", json: (*Server).ledger},

	// What edge gateways need (gateway_api.go): the gateway role's routes.
	{Method: "GET", Path: "/api/v1/gateway/gates", Perm: auth.GatewayGates, ID: "gatewayGates", Tag: "gateway",
		Summary: "Whether each vendor exists, its status and its block: what a gateway polls every second",
		Params: []Param{{Name: "vendor", In: "query", Type: "string", Required: true, Multi: true,
			Desc: fmt.Sprintf("a vendor id; repeat it for several (1 to %d)", maxGateVendors)}},
		Response: "[]GatewayGate", json: (*Server).gatewayGates},
	{Method: "POST", Path: "/api/v1/gateway/ledger", Perm: auth.GatewayLedger, ID: "gatewayLedger", Tag: "gateway",
		Summary: "Record a gateway's ledger flush in one transaction: what vendors received, and the policy's action counts",
		Request: "GatewayLedger", Errors: []int{413, 415}, json: (*Server).gatewayLedger},
	{Method: "POST", Path: "/api/v1/gateway/observed", Perm: auth.GatewayLedger, ID: "gatewayObserved", Tag: "gateway",
		Summary: "Record the flows a gateway observed as observed flows in the inventory",
		Request: "ObservedFlows", Errors: []int{413, 415}, json: (*Server).gatewayObserved},

	// Incidents.
	{Method: "GET", Path: "/api/v1/incidents", Perm: auth.IncidentsRead, ID: "listIncidents", Tag: "incidents",
		Summary: "List incidents, newest first", Response: "[]Incident", Paged: true,
		Params: []Param{
			query("vendor", "only incidents at this vendor"),
			query("status", "only incidents with this status", statuses()...),
			queryBool("open", "leave out closed incidents"),
		},
		json: (*Server).listIncidents},
	{Method: "POST", Path: "/api/v1/incidents", Perm: auth.IncidentsWrite, ID: "openIncident", Tag: "incidents",
		Summary: "Open an incident at a vendor", Request: "IncidentInput", Response: "Incident", Status: http.StatusCreated,
		json: (*Server).openIncident},
	{Method: "GET", Path: "/api/v1/incidents/{id}", Perm: auth.IncidentsRead, ID: "getIncident", Tag: "incidents",
		Summary: "An incident and its timeline", Params: []Param{incidentID}, Response: "IncidentView", Errors: []int{404},
		json: (*Server).getIncident},
	{Method: "PATCH", Path: "/api/v1/incidents/{id}", Perm: auth.IncidentsWrite, ID: "updateIncident", Tag: "incidents",
		Summary: "Change an incident's facts or status (JSON merge patch: null clears); every change goes on the timeline",
		Params:  []Param{incidentID}, Request: "IncidentPatch", Response: "Incident", Errors: []int{404, 409}, json: (*Server).updateIncident},
	{Method: "GET", Path: "/api/v1/incidents/{id}/blast-radius", Perm: auth.IncidentsRead, ID: "blastRadius", Tag: "incidents",
		Summary: "What the breach exposed: categories, systems, affected vendors, people by category and jurisdiction",
		Params:  []Param{incidentID}, Response: "BlastRadius", Errors: []int{404}, json: (*Server).blastRadius},
	{Method: "GET", Path: "/api/v1/incidents/{id}/affected", Perm: auth.IncidentsWrite, ID: "affected", Tag: "incidents",
		Summary:  "The affected people, streamed: the recipient list (CSV, spreadsheet formulas defused) or the blast radius's rows (JSON lines); a list of people, so for roles that run incidents (incidents.go)",
		Params:   []Param{incidentID, query("format", "csv (default) or jsonl", "csv", "jsonl")},
		Produces: "text/csv", Errors: []int{404}, raw: (*Server).affected},
	{Method: "GET", Path: "/api/v1/incidents/{id}/clocks", Perm: auth.IncidentsRead, ID: "clocks", Tag: "incidents",
		Summary: "The notification duties that apply, their deadlines and the time left",
		Params:  []Param{incidentID}, Response: "ClockReport", Errors: []int{404}, json: (*Server).clocks},
	{Method: "POST", Path: "/api/v1/incidents/{id}/contain", Perm: auth.IncidentsWrite, ID: "contain", Tag: "incidents",
		Summary: "Block the vendor in every gateway; the credentials, integrations and questions to deal with",
		Params:  []Param{incidentID}, Request: "ContainRequest", BodyOptional: true, Response: "Containment", Errors: []int{404},
		json: (*Server).contain},

	// Audit.
	{Method: "GET", Path: "/api/v1/audit", Perm: auth.AuditRead, ID: "listAudit", Tag: "audit",
		Summary: "Audit entries, oldest first; Link rel=\"next\" continues from the next sequence number", Response: "[]AuditEntry",
		Params: []Param{
			queryInt("from", "start at this sequence number (default 1)"),
			query("object", `only entries about this object ("vendor:mixpanel", "incident:ID")`),
			queryInt("limit", fmt.Sprintf("at most this many entries: 1 to %d (default %d)", maxLimit, defaultLimit)),
		},
		json: (*Server).listAudit},
	{Method: "GET", Path: "/api/v1/audit/verify", Perm: auth.AuditRead, ID: "verifyAudit", Tag: "audit",
		Summary:  "Walk the hash chain: ok is false, with the first problem, if an entry was edited, deleted, inserted or reordered",
		Response: "AuditReport", json: (*Server).verifyAudit},

	// Users and API tokens.
	{Method: "GET", Path: "/api/v1/users", Perm: auth.UsersAdmin, ID: "listUsers", Tag: "users",
		Summary: "List users", Response: "[]User", json: (*Server).listUsers},
	{Method: "POST", Path: "/api/v1/users", Perm: auth.UsersAdmin, ID: "createUser", Tag: "users",
		Summary: "Add a user; without a password, the response holds a one-time one", Request: "UserCreate",
		Response: "UserWithPassword", Status: http.StatusCreated, Errors: []int{409}, json: (*Server).createUser},
	{Method: "PATCH", Path: "/api/v1/users/{name}", Perm: auth.UsersAdmin, ID: "updateUser", Tag: "users",
		Summary: "Change a user's role, or disable (ending its sessions) or enable it", Params: []Param{pathParam("name", "user name")},
		Request: "UserPatch", Response: "User", Errors: []int{404, 409}, json: (*Server).updateUser},
	{Method: "DELETE", Path: "/api/v1/users/{name}", Perm: auth.UsersAdmin, ID: "deleteUser", Tag: "users",
		Summary: "Delete a user: its sessions end and its tokens are revoked", Params: []Param{pathParam("name", "user name")},
		Errors: []int{404, 409}, json: (*Server).deleteUser},
	{Method: "GET", Path: "/api/v1/tokens", Perm: auth.UsersAdmin, ID: "listTokens", Tag: "users",
		Summary: "List API tokens, revoked and expired ones too, oldest first", Response: "[]Token",
		Params: []Param{query("user", "only this user's tokens")}, json: (*Server).listTokens},
	{Method: "POST", Path: "/api/v1/tokens", Perm: auth.UsersAdmin, ID: "createToken", Tag: "users",
		Summary: "Make an API token; the response holds its secret, this once", Request: "TokenCreate",
		Response: "TokenWithSecret", Status: http.StatusCreated, Errors: []int{404}, json: (*Server).createToken},
	{Method: "DELETE", Path: "/api/v1/tokens/{id}", Perm: auth.UsersAdmin, ID: "revokeToken", Tag: "users",
		Summary: "Revoke an API token", Params: []Param{pathParam("id", "the token's id (wlt_ and 10 characters)")},
		Errors: []int{404}, json: (*Server).revokeToken},
}

var incidentID = pathParam("id", "incident id, or a unique prefix of at least four characters")

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

// checkRoutes refuses a table with a route that names no permission (or
// an unknown one), a duplicate, a path parameter that is not declared (or
// declared and absent), an unknown schema, or no handler.
// permProblem says what is wrong with a route's permission, or "": every
// route, API or UI, must name one of internal/auth's, Public or
// Authenticated.
func permProblem(p auth.Permission) string {
	switch {
	case p == "":
		return "no permission: name one of internal/auth's, or Public or Authenticated"
	case p != Public && p != Authenticated && !slices.Contains(auth.Permissions(), p):
		return fmt.Sprintf("unknown permission %q", p)
	}
	return ""
}

func checkRoutes(rs []Route) error {
	var errs []error
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, r := range rs {
		name := r.Method + " " + r.Path
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(name+": "+format, args...)) }
		if seen[name] {
			bad("listed twice")
		}
		seen[name] = true
		if p := permProblem(r.Perm); p != "" {
			bad("%s", p)
		}
		if !slices.Contains([]string{"GET", "POST", "PATCH", "PUT", "DELETE"}, r.Method) {
			bad("method %q", r.Method)
		}
		if r.ID == "" || ids[r.ID] {
			bad("operation id %q missing or not unique", r.ID)
		}
		ids[r.ID] = true
		if (r.json == nil) == (r.raw == nil) {
			bad("needs exactly one handler")
		}
		if r.Summary == "" || r.Tag == "" {
			bad("needs a summary and a tag")
		}
		var inPath []string
		for _, m := range pathParamRe.FindAllStringSubmatch(r.Path, -1) {
			inPath = append(inPath, m[1])
		}
		var declared []string
		for _, p := range r.Params {
			if p.In == "path" {
				declared = append(declared, p.Name)
			} else if p.In != "query" {
				bad("parameter %s: in %q", p.Name, p.In)
			}
		}
		if !slices.Equal(inPath, declared) {
			bad("path parameters %v, declared %v", inPath, declared)
		}
		for _, s := range []string{r.Request, strings.TrimPrefix(r.Response, "[]")} {
			if s != "" && schemaType(s) == nil {
				bad("unknown schema %q", s)
			}
		}
		if r.Method == "GET" && r.Request != "" {
			bad("a GET takes no body")
		}
	}
	return errors.Join(errs...)
}

// Routes describes the route table, for documentation.
func Routes() []Route {
	out := slices.Clone(routes)
	for i := range out {
		out[i].json, out[i].raw = nil, nil
	}
	return out
}
