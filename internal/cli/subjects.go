package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

func (a *app) subjectsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "subjects",
		Short: "Where the people in the gateway's ledger live, for blast radius by jurisdiction",
	}
	var gatewayConfig string
	var plain bool
	imp := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Record where people live, from a CSV of user id and jurisdiction",
		Long: `import reads a CSV with a header row naming the columns user_id and
jurisdiction (an ISO 3166-1 alpha-2 country code such as DE, or an ISO
3166-2 code such as US-CA for a US state or Canadian province), one person
per row. The ledger keys people by a keyed hash of their id unless the
gateway keeps plain ids: give the gateway's config with --gateway-config so
import hashes the ids with the same key (its hash_key environment variable
or file must be available), or --plain when the ledger keeps plain ids. The
file is checked whole first: any bad row, and any id given twice, is
reported with its line and nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var hash func(string) string
			if (gatewayConfig == "") == !plain {
				return usageError{errors.New("give --gateway-config FILE (the ledger hashes ids, the default) or --plain (it keeps them as they are)")}
			}
			if gatewayConfig != "" {
				cfg, err := gateway.LoadConfig(gatewayConfig, os.LookupEnv)
				if err != nil {
					return err
				}
				if cfg.Ledger.Subjects == "hashed" {
					hash = gateway.NewEngine(cfg.HashKeyBytes()).Hash
				}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rs, err := readResidence(args[0], f, hash)
			if err != nil {
				return err
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			if err := svc.Store.PutResidence(cmd.Context(), rs); err != nil {
				return err
			}
			mode := "plain ids"
			if hash != nil {
				mode = "ids hashed with the gateway's key"
			}
			fmt.Fprintf(a.out, "Recorded where %d people live (%s).\n", len(rs), mode)
			return nil
		},
	}
	imp.Flags().StringVar(&gatewayConfig, "gateway-config", "", "the gateway's config: hash ids as its ledger does")
	imp.Flags().BoolVar(&plain, "plain", false, "store ids as they are (for a gateway with ledger subjects: plaintext)")
	cmd.AddCommand(imp)
	return cmd
}

// readResidence parses a residence CSV, every row checked before any is
// returned.
func readResidence(name string, r io.Reader, hash func(string) string) ([]store.Residence, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header row: %w", name, err)
	}
	idCol, jCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "user_id", "subject", "id":
			idCol = i
		case "jurisdiction", "country", "residence":
			jCol = i
		}
	}
	if idCol < 0 || jCol < 0 {
		return nil, fmt.Errorf("%s:1: the header must name a user_id and a jurisdiction column, found %q", name, strings.Join(header, ","))
	}
	var out []store.Residence
	var errs []error
	seen := map[string]int{} // id → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) <= max(idCol, jCol) {
			errs = append(errs, fmt.Errorf("%s:%d: %d columns, want at least %d", name, line, len(rec), max(idCol, jCol)+1))
			continue
		}
		id := strings.TrimSpace(rec[idCol])
		j := strings.ToUpper(strings.TrimSpace(rec[jCol]))
		switch {
		case id == "":
			errs = append(errs, fmt.Errorf("%s:%d: user_id is empty", name, line))
		case !personJurisdiction(j):
			errs = append(errs, fmt.Errorf("%s:%d: jurisdiction %q: use the ISO 3166 code of a country (DE, GB) or of a US state or Canadian province (US-CA)", name, line, rec[jCol]))
		case seen[id] != 0:
			errs = append(errs, fmt.Errorf("%s:%d: user_id %q is given twice (first on line %d)", name, line, id, seen[id]))
		default:
			seen[id] = line
			r := store.Residence{Subject: id, Jurisdiction: j}
			if hash != nil {
				r.Subject, r.ExternalID = hash(id), id
			}
			out = append(out, r)
		}
		if len(errs) >= 20 {
			errs = append(errs, errors.New("(stopped after 20 errors)"))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// personJurisdiction reports whether j can be where a person lives: a
// country, or a subdivision of one; not a group such as EU or the rules'
// wildcard.
func personJurisdiction(j string) bool {
	country, _, _ := strings.Cut(j, "-")
	return len(country) == 2 && j != "EU" && incident.KnownJurisdiction(j)
}
