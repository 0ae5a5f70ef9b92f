package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "API tokens for scripts, CI and gateways: scoped to a role, expiring, shown once",
	}
	var req service.TokenRequest
	var role, expires, createFormat string
	create := &cobra.Command{
		Use:   "create --user NAME",
		Short: "Make an API token and print it, once",
		Long: `create makes an API token for a user and prints it once: weaklink keeps only
its SHA-256 hash. The token acts with --role (the user's role by default),
which must be within the user's role: a viewer cannot hold an editor token.
It expires after --expires (90 days by default, a year at most).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if role != "" {
				r, err := parseRole(role)
				if err != nil {
					return err
				}
				req.Role = r
			}
			life, err := parseLifetime(expires)
			if err != nil {
				return err
			}
			req.Lifetime = life
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			t, err := b.CreateToken(cmd.Context(), req, expires)
			if err != nil {
				return err
			}
			if createFormat == formatJSON {
				return writeJSON(a.out, t)
			}
			fmt.Fprintf(a.out, "Created API token %s for %s (%s), expiring %s. It is shown only now:\n%s\n",
				t.ID, t.User, t.Role, fmtTime(t.ExpiresAt), t.Secret)
			return nil
		},
	}
	create.Flags().StringVar(&req.User, "user", "", "the user the token acts for (required)")
	create.Flags().StringVar(&role, "role", "", "the token's role, within the user's (default: the user's)")
	create.Flags().StringVar(&expires, "expires", "90d", "lifetime: 90d, 12h, 2w; at most 366d")
	create.Flags().StringVar(&req.Name, "name", "", `what the token is for ("ci", "gateway eu-1")`)
	_ = create.MarkFlagRequired("user")
	formatFlag(create, &createFormat)

	var user, listFormat string
	list := &cobra.Command{
		Use:   "list",
		Short: "List API tokens, revoked and expired ones too, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := b.Tokens(cmd.Context(), user)
			if err != nil {
				return err
			}
			if listFormat == formatJSON {
				return writeJSON(a.out, ts)
			}
			now := a.now()
			var rows [][]string
			for _, t := range ts {
				used := "never"
				if t.LastUsed != nil {
					used = fmtTime(*t.LastUsed)
				}
				rows = append(rows, []string{t.ID, t.User, t.Name, string(t.Role), t.Status(now), fmtTime(t.CreatedAt), fmtTime(t.ExpiresAt), used})
			}
			return table(a.out, []string{"ID", "USER", "NAME", "ROLE", "STATUS", "CREATED", "EXPIRES", "LAST USED"}, rows)
		},
	}
	list.Flags().StringVar(&user, "user", "", "only this user's tokens")
	formatFlag(list, &listFormat)

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token by its ID (the ID column of tokens list)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			id := args[0]
			if len(id) > 14 {
				id = id[:14]
			}
			fmt.Fprintf(a.out, "Revoked API token %s.\n", id)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// tokenWithSecret is what `tokens create --format json` prints: the token
// and, this once, its secret (the API's shape).
type tokenWithSecret = service.TokenWithSecret

// parseLifetime reads 90d, 2w, 12h, 30m (and any Go duration).
func parseLifetime(s string) (time.Duration, error) {
	bad := usageError{fmt.Errorf("--expires %q: use a lifetime such as 90d, 2w or 12h, at most 366d (tokens always expire)", s)}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, bad
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit != 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 1000 {
			return 0, bad
		}
		return time.Duration(n) * unit, checkLifetime(time.Duration(n)*unit, bad)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	return d, checkLifetime(d, bad)
}

func checkLifetime(d time.Duration, bad error) error {
	if d < time.Minute || d > auth.MaxTokenLifetime {
		return bad
	}
	return nil
}
