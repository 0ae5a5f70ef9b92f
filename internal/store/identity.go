package store

import "time"

// Identity is an account at a single sign-on provider bound to the local
// user it signs in as (docs/auth.md, "Single sign-on (OIDC)"). The
// provider names the account by its issuer and subject (the ID token's
// iss and sub), which it never reassigns; a user name claim, which
// people may be able to change, is not part of it.
type Identity struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
}
