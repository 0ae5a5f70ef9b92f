package web

import "slices"

// Internals for the tests of package web_test.
var CheckRoutes = checkRoutes

// RouteTable is the route table with its handlers.
func RouteTable() []Route { return slices.Clone(routes) }

// NewWithRoutes builds a server from another table.
func NewWithRoutes(o Options, rs []Route) (*Server, error) { return newServer(o, rs) }

// Patterns are the mux patterns the server registered for its routes.
func (s *Server) Patterns() []string { return slices.Clone(s.patterns) }

// PanicRoute is a public route whose handler panics with msg.
func PanicRoute(msg string) Route {
	return Route{Method: "GET", Path: "/panic", Perm: Public, ID: "panic", Summary: "panics", Tag: "test",
		Response: "Health", json: func(*Server, *call) (any, error) { panic(msg) }}
}
