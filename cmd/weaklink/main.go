// Command weaklink maps which vendors hold which data about which people,
// limits what they receive, and answers when one of them is breached.
package main

import (
	"os"

	"github.com/weaklink/weaklink/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
