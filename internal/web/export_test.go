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

// NewWithUIRoutes builds a server with another UI table.
func NewWithUIRoutes(o Options, ui []UIRoute) (*Server, error) { return newServerUI(o, routes, ui) }

// UIRouteTable is the UI's route table with its handlers.
func UIRouteTable() []UIRoute { return slices.Clone(uiRoutes) }

// SafeNext is where a login goes next.
var SafeNext = safeNext
