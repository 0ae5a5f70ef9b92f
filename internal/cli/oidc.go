package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/web"
)

// oidcSecretEnv holds the OIDC client secret: an environment variable, not
// a flag, so that it is in no process listing or shell history.
const oidcSecretEnv = "WEAKLINK_OIDC_CLIENT_SECRET"

// oidcFlags configure serve's single sign-on (docs/auth.md).
type oidcFlags struct {
	issuer, clientID, redirectURL, claim, domain, role string
	linkExisting                                       bool
}

func (f *oidcFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.issuer, "oidc-issuer", "", "single sign-on: the OpenID Connect provider's issuer URL (https; client secret in $"+oidcSecretEnv+")")
	fl.StringVar(&f.clientID, "oidc-client-id", "", "single sign-on: this server's client ID at the provider")
	fl.StringVar(&f.redirectURL, "oidc-redirect-url", "", "single sign-on: this server's external URL of /auth/oidc/callback, as registered with the provider")
	fl.StringVar(&f.claim, "oidc-username-claim", "email", "single sign-on: the ID token claim that names the local user at an account's first sign-in (email needs email_verified true)")
	fl.StringVar(&f.domain, "oidc-allowed-domain", "", "single sign-on: admit only accounts in this domain (the username claim when it is an address, else the verified email)")
	fl.StringVar(&f.role, "oidc-default-role", "", "single sign-on: create unknown users with this role (viewer, auditor or editor; needs --oidc-allowed-domain); without it they are refused")
	fl.BoolVar(&f.linkExisting, "oidc-link-existing", false, "single sign-on: let an account's first sign-in link a user that has a password when the user's name is the account's verified email (else: weaklink users link-sso)")
}

// config is the web server's OIDC configuration, nil without
// --oidc-issuer. Errors name the flags.
func (f *oidcFlags) config() (*web.OIDC, error) {
	secret := os.Getenv(oidcSecretEnv)
	if f.issuer == "" {
		if f.clientID != "" || f.redirectURL != "" || f.domain != "" || f.role != "" || f.linkExisting {
			return nil, usageError{errors.New("the --oidc-* flags need --oidc-issuer")}
		}
		return nil, nil
	}
	switch {
	case f.clientID == "":
		return nil, usageError{errors.New("--oidc-issuer needs --oidc-client-id")}
	case f.redirectURL == "":
		return nil, usageError{errors.New("--oidc-issuer needs --oidc-redirect-url (this server's external URL of /auth/oidc/callback)")}
	case secret == "":
		return nil, usageError{fmt.Errorf("--oidc-issuer needs the client secret in $%s", oidcSecretEnv)}
	}
	o := &web.OIDC{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret, RedirectURL: f.redirectURL,
		UsernameClaim: f.claim, AllowedDomain: f.domain, LinkExisting: f.linkExisting}
	if f.role != "" {
		r, err := auth.ParseRole(f.role)
		if err != nil {
			return nil, usageError{fmt.Errorf("--oidc-default-role: %w", err)}
		}
		o.DefaultRole = r
	}
	if err := o.Check(); err != nil {
		return nil, usageError{err}
	}
	return o, nil
}

// ssoLinkCmds are users link-sso, unlink-sso and sso: an admin binding an
// account at the identity provider (its issuer and subject) to a user, on
// the database directly.
func (a *app) ssoLinkCmds() []*cobra.Command {
	var issuer, subject, format string
	link := &cobra.Command{
		Use:   "link-sso NAME --issuer URL --subject SUB",
		Short: "Link an account at the single sign-on provider to a user, which it then signs in as",
		Long: `link-sso binds an account at the OpenID Connect provider, named by the
provider's issuer URL (exactly as serve's --oidc-issuer) and the account's
subject (its sub claim: a refused sign-in's page and the server log show
it), to a user. That account then signs in as the user, even one with a
password, and no other account at that provider can. See docs/auth.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			id, err := svc.LinkIdentity(cmd.Context(), args[0], issuer, subject)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, id)
			}
			fmt.Fprintf(a.out, "Linked %s at %s to user %s.\n", id.Subject, id.Issuer, id.User)
			return nil
		},
	}
	link.Flags().StringVar(&issuer, "issuer", "", "the provider's issuer URL, exactly as serve's --oidc-issuer (required)")
	link.Flags().StringVar(&subject, "subject", "", "the account's subject, the sub claim (required)")
	_ = link.MarkFlagRequired("issuer")
	_ = link.MarkFlagRequired("subject")
	formatFlag(link, &format)

	var unIssuer string
	unlink := &cobra.Command{
		Use:   "unlink-sso NAME --issuer URL",
		Short: "Remove a user's link to an account at the single sign-on provider",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			if err := svc.UnlinkIdentity(cmd.Context(), args[0], unIssuer); err != nil {
				return err
			}
			name, _ := auth.NormalizeUsername(args[0])
			fmt.Fprintf(a.out, "Unlinked user %s from its account at %s.\n", name, unIssuer)
			return nil
		},
	}
	unlink.Flags().StringVar(&unIssuer, "issuer", "", "the provider's issuer URL (required)")
	_ = unlink.MarkFlagRequired("issuer")

	var listFormat string
	list := &cobra.Command{
		Use:   "sso NAME",
		Short: "List a user's links to single sign-on accounts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			ids, err := svc.Identities(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if listFormat == formatJSON {
				return writeJSON(a.out, ids)
			}
			var rows [][]string
			for _, id := range ids {
				rows = append(rows, []string{id.Issuer, id.Subject, fmtTime(id.CreatedAt)})
			}
			return table(a.out, []string{"ISSUER", "SUBJECT", "LINKED"}, rows)
		},
	}
	formatFlag(list, &listFormat)
	return []*cobra.Command{link, unlink, list}
}
