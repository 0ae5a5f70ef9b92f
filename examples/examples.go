// Package examples embeds the example company, acme, so that the binary
// alone can run `weaklink demo` on a machine without this repository.
package examples

import "embed"

// Acme is the examples/acme directory: the inventory (vendors, systems,
// flows), the gateway configuration, the organization profile and the
// dashboard's recorded SDK traffic.
//
//go:embed acme
var Acme embed.FS
