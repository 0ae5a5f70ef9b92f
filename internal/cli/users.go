package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

func (a *app) usersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Who may log in to the web UI and API, and as what role",
		Long: `users manages the local users of weaklink's web UI and API. Roles:

  admin    everything, users and tokens included
  editor   read and change the inventory and incidents
  viewer   read the inventory, incidents and the ledger
  auditor  what a viewer reads, and the audit log
  gateway  read vendor gates and write the ledger (for gateways' tokens)

Passwords are at least 15 characters and not common; they are stored as
argon2id hashes. A password that users add or users passwd sets is
one-time: its user must choose their own at the first login (unless
--no-change-required, with a password given). See docs/auth.md.`,
	}
	var addFormat, role string
	var stdin, addKeep bool
	add := &cobra.Command{
		Use:   "add NAME --role ROLE",
		Short: "Add a user; without --password-stdin, print a one-time password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseRole(role)
			if err != nil {
				return err
			}
			password, err := a.passwordFromStdin(stdin)
			if err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			u, err := b.AddUser(cmd.Context(), args[0], r, service.AdminPassword{Password: password, NoChangeRequired: addKeep})
			if err != nil {
				return err
			}
			if addFormat == formatJSON {
				return writeJSON(a.out, u)
			}
			fmt.Fprintf(a.out, "Added user %s (%s).\n", u.Name, u.Role)
			a.printGenerated(u.Password)
			a.printOneTime(u.User)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "admin, editor, viewer, auditor or gateway (required)")
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input (one line)")
	add.Flags().BoolVar(&addKeep, noChangeFlag, false, noChangeUsage)
	_ = add.MarkFlagRequired("role")
	formatFlag(add, &addFormat)

	var listFormat string
	list := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			users, err := b.Users(cmd.Context())
			if err != nil {
				return err
			}
			if listFormat == formatJSON {
				return writeJSON(a.out, users)
			}
			var rows [][]string
			for _, u := range users {
				rows = append(rows, []string{u.Name, string(u.Role), userStatus(u), fmtTime(u.CreatedAt), fmtTime(u.UpdatedAt)})
			}
			return table(a.out, []string{"NAME", "ROLE", "STATUS", "CREATED", "UPDATED"}, rows)
		},
	}
	formatFlag(list, &listFormat)

	var roleFormat string
	setRole := &cobra.Command{
		Use:   "set-role NAME ROLE",
		Short: "Change a user's role (its tokens act within the new one)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := parseRole(args[1])
			if err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			u, err := b.UpdateUser(cmd.Context(), args[0], &r, nil)
			if err != nil {
				return err
			}
			if roleFormat == formatJSON {
				return writeJSON(a.out, u)
			}
			fmt.Fprintf(a.out, "User %s is %s.\n", u.Name, u.Role)
			return nil
		},
	}
	formatFlag(setRole, &roleFormat)

	enable := func(use, short string, disabled bool) *cobra.Command {
		var format string
		c := &cobra.Command{
			Use:   use + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := a.backend(cmd.Context())
				if err != nil {
					return err
				}
				u, err := b.UpdateUser(cmd.Context(), args[0], nil, &disabled)
				if err != nil {
					return err
				}
				if format == formatJSON {
					return writeJSON(a.out, u)
				}
				if disabled {
					fmt.Fprintf(a.out, "Disabled user %s: its sessions ended, its tokens are refused until it is enabled.\n", u.Name)
				} else {
					fmt.Fprintf(a.out, "Enabled user %s.\n", u.Name)
				}
				return nil
			},
		}
		formatFlag(c, &format)
		return c
	}

	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Delete a user: its sessions end and its tokens are revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			if err := b.RemoveUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			name, _ := auth.NormalizeUsername(args[0])
			fmt.Fprintf(a.out, "Removed user %s: its sessions ended and its tokens were revoked.\n", name)
			return nil
		},
	}

	var pwFormat string
	var pwStdin, pwKeep bool
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a user's password (ends its sessions); without --password-stdin, print a one-time password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := a.passwordFromStdin(pwStdin)
			if err != nil {
				return err
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			u, generated, err := svc.SetPasswordWith(cmd.Context(), args[0], service.AdminPassword{Password: password, NoChangeRequired: pwKeep})
			if err != nil {
				return err
			}
			if pwFormat == formatJSON {
				return writeJSON(a.out, userWithPassword{User: u, Password: generated})
			}
			fmt.Fprintf(a.out, "Set the password of %s; its sessions ended.\n", u.Name)
			a.printGenerated(generated)
			a.printOneTime(u)
			return nil
		},
	}
	passwd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input (one line)")
	passwd.Flags().BoolVar(&pwKeep, noChangeFlag, false, noChangeUsage)
	formatFlag(passwd, &pwFormat)

	cmd.AddCommand(add, list, setRole,
		enable("disable", "Disable a user: its sessions end and its tokens are refused", true),
		enable("enable", "Enable a disabled user", false),
		rm, passwd)
	cmd.AddCommand(a.ssoLinkCmds()...) // oidc.go
	return cmd
}

// userWithPassword is a user and, when weaklink made one, its one-time
// password: what `users add` and `users passwd` print as JSON.
type userWithPassword = service.UserWithPassword

func userStatus(u auth.User) string {
	s := "enabled"
	if u.Disabled {
		s = "disabled"
	}
	if u.MustChangePassword {
		s += ", one-time password"
	}
	return s
}

func parseRole(s string) (auth.Role, error) {
	r, err := auth.ParseRole(s)
	if err != nil {
		return "", usageError{err}
	}
	return r, nil
}

// passwordFromStdin reads one line from standard input when asked to
// (nothing otherwise: the service generates a password).
func (a *app) passwordFromStdin(yes bool) (string, error) {
	if !yes {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(a.in, auth.MaxPasswordBytes+3))
	if err != nil {
		return "", err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", usageError{errors.New("--password-stdin: standard input is empty")}
	}
	if bytes.ContainsAny(b, "\r\n") {
		return "", usageError{errors.New("--password-stdin: give the password on one line")}
	}
	return string(b), nil
}

func (a *app) printGenerated(password string) {
	if password == "" {
		return
	}
	fmt.Fprintf(a.out, "One-time password, shown only now: %s\n", password)
}

// One-time passwords: what users add and users passwd set, their user
// must change at the first login, unless the admin gave the password and
// this flag.
const (
	noChangeFlag  = "no-change-required"
	noChangeUsage = "let the password given with --password-stdin stay after the first login (a generated one is always one-time)"
)

func (a *app) printOneTime(u auth.User) {
	if u.MustChangePassword {
		fmt.Fprintf(a.out, "%s must change the password at first login.\n", u.Name)
	}
}
