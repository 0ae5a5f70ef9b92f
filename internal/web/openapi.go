package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// schemaTypes names the types the API reads and writes. The OpenAPI
// document's schemas are generated from them by reflection, following
// encoding/json's rules, so the document cannot drift from the code.
var schemaTypes = []struct {
	name string
	typ  reflect.Type
}{
	{"Error", reflect.TypeFor[ErrorResponse]()},
	{"Health", reflect.TypeFor[Health]()},
	{"LoginRequest", reflect.TypeFor[LoginRequest]()},
	{"LoginResponse", reflect.TypeFor[LoginResponse]()},
	{"Me", reflect.TypeFor[Me]()},
	{"PasswordChange", reflect.TypeFor[PasswordChange]()},
	{"Vendor", reflect.TypeFor[inventory.Vendor]()},
	{"System", reflect.TypeFor[inventory.System]()},
	{"Flow", reflect.TypeFor[inventory.Flow]()},
	{"VendorDetail", reflect.TypeFor[service.VendorDetail]()},
	{"SystemDetail", reflect.TypeFor[service.SystemDetail]()},
	{"BlockRequest", reflect.TypeFor[BlockRequest]()},
	{"Block", reflect.TypeFor[store.Block]()},
	{"WhoHas", reflect.TypeFor[service.WhoHas]()},
	{"InventoryPlan", reflect.TypeFor[InventoryPlan]()},
	{"Change", reflect.TypeFor[inventory.Change]()},
	{"FieldChange", reflect.TypeFor[inventory.FieldChange]()},
	{"LedgerSummary", reflect.TypeFor[store.LedgerSummary]()},
	{"Incident", reflect.TypeFor[incident.Incident]()},
	{"IncidentView", reflect.TypeFor[service.IncidentView]()},
	{"IncidentInput", reflect.TypeFor[IncidentInput]()},
	{"IncidentPatch", reflect.TypeFor[IncidentPatch]()},
	{"Event", reflect.TypeFor[incident.Event]()},
	{"BlastRadius", reflect.TypeFor[incident.BlastRadius]()},
	{"ClockReport", reflect.TypeFor[service.ClockReport]()},
	{"Duty", reflect.TypeFor[incident.Duty]()},
	{"ContainRequest", reflect.TypeFor[ContainRequest]()},
	{"Containment", reflect.TypeFor[service.Containment]()},
	{"AuditEntry", reflect.TypeFor[audit.Entry]()},
	{"AuditReport", reflect.TypeFor[service.AuditReport]()},
	{"User", reflect.TypeFor[auth.User]()},
	{"UserWithPassword", reflect.TypeFor[service.UserWithPassword]()},
	{"UserCreate", reflect.TypeFor[UserCreate]()},
	{"UserPatch", reflect.TypeFor[UserPatch]()},
	{"Session", reflect.TypeFor[auth.Session]()},
	{"Token", reflect.TypeFor[auth.Token]()},
	{"TokenWithSecret", reflect.TypeFor[service.TokenWithSecret]()},
	{"TokenCreate", reflect.TypeFor[TokenCreate]()},
	{"GatewayGate", reflect.TypeFor[service.GatewayGate]()},
	{"GatewayLedger", reflect.TypeFor[service.GatewayLedger]()},
	{"ObservedFlows", reflect.TypeFor[service.ObservedFlows]()},
}

func schemaType(name string) reflect.Type {
	for _, s := range schemaTypes {
		if s.name == name {
			return s.typ
		}
	}
	return nil
}

// obj is a JSON object of the document.
type obj = map[string]any

// enums lists the values of string types with a fixed set.
func enums() map[reflect.Type][]string {
	strs := func(xs any) []string {
		v := reflect.ValueOf(xs)
		out := make([]string, v.Len())
		for i := range out {
			out[i] = v.Index(i).String()
		}
		return out
	}
	return map[reflect.Type][]string{
		reflect.TypeFor[auth.Role]():       strs(auth.Roles),
		reflect.TypeFor[auth.Permission](): strs(auth.Permissions()),
		reflect.TypeFor[incident.Status](): strs(incident.Statuses),
		reflect.TypeFor[incident.Anchor](): strs(incident.Anchors),
	}
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1
// uses), with $refs to the named types.
type schemaGen struct {
	names map[reflect.Type]string
	enums map[reflect.Type][]string
}

func newSchemaGen() *schemaGen {
	g := &schemaGen{names: map[reflect.Type]string{}, enums: enums()}
	for _, s := range schemaTypes {
		g.names[s.typ] = s.name
	}
	return g
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	optionalType  = reflect.TypeFor[interface{ elemType() reflect.Type }]()
	dutyType      = reflect.TypeFor[incident.Duty]()
)

// ref is the schema of t where it is used: a $ref for a named type.
func (g *schemaGen) ref(t reflect.Type) obj {
	if name, ok := g.names[t]; ok {
		return obj{"$ref": "#/components/schemas/" + name}
	}
	return g.schema(t)
}

func nullable(s obj) obj { return obj{"anyOf": []any{s, obj{"type": "null"}}} }

// schema is the full schema of t.
func (g *schemaGen) schema(t reflect.Type) obj {
	if t.Implements(optionalType) {
		return nullable(g.ref(reflect.Zero(t).Interface().(interface{ elemType() reflect.Type }).elemType()))
	}
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case rawType:
		return obj{"description": "any JSON value"}
	}
	if e, ok := g.enums[t]; ok {
		return obj{"type": "string", "enum": e}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.ref(t.Elem()))
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": []any{"array", "null"}, "items": g.ref(t.Elem())}
	case reflect.Array:
		return obj{"type": "array", "items": g.ref(t.Elem()), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return obj{"type": []any{"object", "null"}, "additionalProperties": g.ref(t.Elem())}
	case reflect.Interface:
		return obj{"description": "any JSON value"}
	case reflect.Struct:
		return g.object(t)
	}
	panic(fmt.Sprintf("web: no JSON schema for %v", t))
}

// object is a struct's schema: its fields as encoding/json writes them.
// Fields without omitempty or omitzero are always present (required);
// slices and maps among them may be null.
func (g *schemaGen) object(t reflect.Type) obj {
	if t.Implements(marshalerType) && t != dutyType {
		panic(fmt.Sprintf("web: %v marshals itself: describe its JSON in openapi.go", t))
	}
	props := obj{}
	var required []string
	g.fields(t, props, &required)
	if t == dutyType {
		// Duty.MarshalJSON adds the time left and how late, in words and
		// seconds.
		for _, f := range []string{"time_left", "late_by"} {
			props[f] = nullable(obj{"type": "string"})
			props[f+"_seconds"] = nullable(obj{"type": "integer"})
			required = append(required, f, f+"_seconds")
		}
	}
	slices.Sort(required)
	s := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, props obj, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, props, required) // embedded: its fields are promoted
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := props[name]; dup {
			continue
		}
		props[name] = g.ref(f.Type)
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if !omit {
			*required = append(*required, name)
		}
	}
}

// responseSchema is the schema of a route's Response.
func (g *schemaGen) responseSchema(name string) obj {
	if item, ok := strings.CutPrefix(name, "[]"); ok {
		return obj{"type": "array", "items": g.ref(schemaType(item))}
	}
	return g.ref(schemaType(name))
}

// openAPIDocument generates the OpenAPI 3.1 document of a route table.
func openAPIDocument(table []Route, version string) obj {
	g := newSchemaGen()
	schemas := obj{}
	for _, s := range schemaTypes {
		schemas[s.name] = g.schema(s.typ)
	}
	errorResponse := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}}
	}
	errorDesc := map[int]string{
		400: "Invalid input: a body or parameter; error.field names it",
		401: "No valid session or API token (code unauthenticated), or for login a wrong user name or password (bad_credentials)",
		403: "The credentials lack the route's permission (forbidden), or a browser's request came from another origin (cross_origin)",
		404: "No such object",
		405: "Another method is allowed on this path",
		409: "A conflict with the stored state (a name taken, the last admin)",
		413: "The body is larger than the limit",
		415: "The body is not JSON",
		429: "Too many failed logins: the Retry-After header says when to try again",
		503: "The database does not answer",
	}
	responses := obj{}
	for code, desc := range errorDesc {
		responses[strconv.Itoa(code)] = errorResponse(desc)
	}
	paths := obj{}
	for _, rt := range table {
		op := obj{
			"operationId":           rt.ID,
			"summary":               rt.Summary,
			"tags":                  []string{rt.Tag},
			"x-weaklink-permission": string(rt.Perm),
		}
		if rt.Perm == Public {
			op["security"] = []any{}
		} else {
			desc := "Needs a valid session or API token."
			if rt.Perm != Authenticated {
				desc = fmt.Sprintf("Needs the permission `%s` (roles: %s).", rt.Perm, rolesWith(rt.Perm))
			}
			op["description"] = desc
		}
		var params []any
		for _, p := range rt.allParams() {
			schema := obj{"type": p.Type}
			if len(p.Enum) > 0 {
				schema["enum"] = p.Enum
			}
			if p.Multi {
				schema = obj{"type": "array", "items": schema}
			}
			params = append(params, obj{"name": p.Name, "in": p.In, "description": p.Desc, "required": p.Required, "schema": schema})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Request != "" {
			op["requestBody"] = obj{"required": !rt.BodyOptional,
				"content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/" + rt.Request}}}}
		}
		resp := obj{}
		status := rt.Status
		switch {
		case rt.Produces != "":
			resp["200"] = obj{"description": "OK", "content": obj{rt.Produces: obj{}}}
		case rt.Response == "":
			resp["204"] = obj{"description": "Done"}
		default:
			if status == 0 {
				status = http.StatusOK
			}
			ok := obj{"description": http.StatusText(status), "content": obj{"application/json": obj{"schema": g.responseSchema(rt.Response)}}}
			if rt.Paged {
				ok["headers"] = obj{
					"X-Total-Count": obj{"description": "items matching the filters, on all pages", "schema": obj{"type": "integer"}},
					"Link":          obj{"description": `the next page: <URL>; rel="next", absent on the last page`, "schema": obj{"type": "string"}},
				}
			}
			if rt.ID == "listAudit" {
				ok["headers"] = obj{"Link": obj{"description": `the next page: <URL>; rel="next", absent at the end of the log`, "schema": obj{"type": "string"}}}
			}
			resp[strconv.Itoa(status)] = ok
		}
		codes := slices.Clone(rt.Errors)
		if rt.Perm != Public {
			codes = append(codes, 401)
		}
		if rt.Perm != Public && rt.Perm != Authenticated || rt.Method != "GET" {
			codes = append(codes, 403)
		}
		if len(rt.allParams()) > 0 || rt.Request != "" {
			codes = append(codes, 400)
		}
		if rt.Request != "" {
			codes = append(codes, 413, 415)
		}
		slices.Sort(codes)
		for _, code := range slices.Compact(codes) {
			resp[strconv.Itoa(code)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(code)}
		}
		op["responses"] = resp
		item, _ := paths[rt.Path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	if version == "" {
		version = "dev"
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "weaklink API",
			"version": version,
			"description": "Which vendors hold which data about which people: the inventory, incidents, the audit log, users and tokens. " +
				"JSON in the same shapes as the CLI's --format json. See docs/api.md.",
		},
		"servers":  []any{obj{"url": "/"}},
		"security": []any{obj{"bearer": []any{}}, obj{"session": []any{}}},
		"paths":    paths,
		"components": obj{
			"schemas":   schemas,
			"responses": responses,
			"securitySchemes": obj{
				"bearer": obj{"type": "http", "scheme": "bearer",
					"description": "An API token (wlt_…, from POST /api/v1/tokens or `weaklink tokens create`) or a session's secret (wls_…, from POST /api/v1/login)."},
				"session": obj{"type": "apiKey", "in": "cookie", "name": CookieName,
					"description": "The browser session cookie set by POST /api/v1/login. State-changing requests with it must come from this server's own origin."},
			},
		},
	}
}

func rolesWith(p auth.Permission) string {
	var out []string
	for _, r := range auth.Roles {
		if r.Can(p) {
			out = append(out, string(r))
		}
	}
	return strings.Join(out, ", ")
}
