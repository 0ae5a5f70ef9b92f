// Package store is the contract between weaklink's domain and its databases.
//
// One Store interface has two backends, SQLite (the embedded default) and
// PostgreSQL, and one conformance suite (storetest) that both must pass.
// Writes go through Apply: a whole inventory plan in one transaction, refused
// with ErrConflict when the inventory changed since the plan was made.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
)

// Sentinel errors. Backends wrap them with details; test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict means the stored state is not what the caller expected: the
	// inventory changed since a plan was made, an object exists already, or a
	// delete would leave references dangling.
	ErrConflict = errors.New("conflict")
)

// VendorFilter selects vendors. Empty fields match everything.
type VendorFilter struct {
	IDs      []string // any of these ids
	Status   string
	Category string
	Tag      string
	Text     string // case-insensitive substring of id, name or description
	// Sort orders the result by one of VendorSorts ("-" before it:
	// descending), ties broken by id; "" means by id.
	Sort string
	// Limit (0: all) and Offset page the sorted result.
	Limit, Offset int
}

// VendorName is a vendor's id and name.
type VendorName struct{ ID, Name string }

// VendorSorts are the keys ListVendors sorts by. Status and criticality
// sort in lifecycle and severity order, name without regard to ASCII case.
var VendorSorts = []string{"id", "name", "category", "status", "criticality", "owner", "updated_at"}

// FlowFilter selects flows. Empty fields match everything.
type FlowFilter struct {
	Vendor string
	System string
	Source string
	// Category matches flows that carry data of this category: flows naming
	// the category itself, one of its descendants, or one of its ancestors
	// (a parent key stands for all its children).
	Category string
}

// Snapshot is the whole inventory at one version.
type Snapshot struct {
	inventory.Inventory
	// Version counts the changes applied to the inventory. A plan computed from
	// a snapshot carries it, and Apply refuses the plan if it moved.
	Version int64
}

// Store is weaklink's persistent state.
type Store interface {
	// Backend names the database: "sqlite" or "postgres".
	Backend() string
	// Migrate applies pending schema migrations. Open already does; it is safe
	// to call from several processes at once.
	Migrate(ctx context.Context) error
	// SchemaVersion is the number of the last applied migration.
	SchemaVersion(ctx context.Context) (int, error)
	Close() error

	// Snapshot reads the whole inventory consistently, every list in id order.
	Snapshot(ctx context.Context) (Snapshot, error)
	// Apply writes a plan in one transaction. base is the snapshot version the
	// plan was computed from (0: do not check it); every update and delete also
	// checks the object's revision. On any error nothing is written.
	Apply(ctx context.Context, base int64, plan inventory.Plan) error

	GetVendor(ctx context.Context, id string) (inventory.Vendor, error)
	ListVendors(ctx context.Context, f VendorFilter) ([]inventory.Vendor, error)
	// CountVendors counts the vendors f selects, ignoring its paging.
	CountVendors(ctx context.Context, f VendorFilter) (int64, error)
	// VendorNames is ListVendors reading only ids and names.
	VendorNames(ctx context.Context, f VendorFilter) ([]VendorName, error)
	GetSystem(ctx context.Context, id string) (inventory.System, error)
	ListSystems(ctx context.Context) ([]inventory.System, error)
	GetFlow(ctx context.Context, id string) (inventory.Flow, error)
	ListFlows(ctx context.Context, f FlowFilter) ([]inventory.Flow, error)
	// SubprocessorLinks returns every vendor → subprocessor link.
	SubprocessorLinks(ctx context.Context) (map[string][]string, error)
	// CategoryVendors returns, for each category that a flow declares, the
	// distinct vendors receiving it, in id order.
	CategoryVendors(ctx context.Context) (map[string][]string, error)
	// InventoryVersion is the current Snapshot version: it moves with
	// every Apply.
	InventoryVersion(ctx context.Context) (int64, error)
	// Overview counts what the dashboard shows, in aggregate queries that
	// read neither whole tables into memory nor the ledger's rows.
	Overview(ctx context.Context) (Overview, error)
	// FlowMatches returns one row per (flow, declared category) where the
	// category overlaps the asked one (itself, an ancestor or a descendant),
	// with the receiving vendor's summary: the narrow read behind "who has
	// this data?". Rows come in no particular order.
	FlowMatches(ctx context.Context, category string) ([]FlowMatch, error)

	// BlockVendor turns the kill switch on for a vendor: gateways stop
	// forwarding to it. Blocking a blocked vendor updates the reason.
	// ErrNotFound if the vendor is not in the inventory.
	BlockVendor(ctx context.Context, b Block) error
	// UnblockVendor turns it off; ErrNotFound if the vendor was not blocked.
	UnblockVendor(ctx context.Context, vendor string) error
	// Gates reads, for each vendor id, whether it exists, its status and its
	// block: what a gateway polls every second.
	Gates(ctx context.Context, vendors []string) (map[string]Gate, error)

	// RecordLedger adds what gateways forwarded, in one transaction: entries
	// are merged into existing rows (earliest first_seen, latest last_seen,
	// messages added) and action counts are added.
	RecordLedger(ctx context.Context, entries []LedgerEntry, actions []ActionCount) error
	// LedgerSummary aggregates the ledger of one vendor.
	LedgerSummary(ctx context.Context, vendor string) (LedgerSummary, error)
	// ScanLedger streams the ledger rows matching f without holding them in
	// memory: in (vendor, subject, category) order for one vendor or none,
	// in (subject, vendor, category) order for several. For one vendor or
	// several, each subject's rows are adjacent; with no vendor filter
	// they are adjacent only within a vendor. A row matches a window when
	// its first-to-last-seen span overlaps it.
	ScanLedger(ctx context.Context, f LedgerFilter, fn func(LedgerEntry) error) error
	// PutResidence records where ledger subjects live (upsert), in one
	// transaction.
	PutResidence(ctx context.Context, rs []Residence) error

	// CreateIncident stores a new incident (revision 1) and the first event
	// of its timeline in one transaction; ErrConflict if the id exists.
	CreateIncident(ctx context.Context, in incident.Incident, first incident.Event) (incident.Incident, error)
	// UpdateIncident stores in over the stored incident whose revision is
	// in.Revision, as revision+1, and appends events, in one transaction:
	// ErrConflict when the revision moved, ErrNotFound when there is no
	// such incident.
	UpdateIncident(ctx context.Context, in incident.Incident, events ...incident.Event) (incident.Incident, error)
	GetIncident(ctx context.Context, id string) (incident.Incident, error)
	// ListIncidents returns incidents newest first.
	ListIncidents(ctx context.Context, f IncidentFilter) ([]incident.Incident, error)
	// CountIncidents counts the incidents f selects, ignoring its paging.
	CountIncidents(ctx context.Context, f IncidentFilter) (int64, error)
	// AppendEvents adds to an incident's timeline; ErrNotFound if the
	// incident does not exist. The timeline cannot be changed otherwise:
	// the databases refuse updates and deletes of its rows.
	AppendEvents(ctx context.Context, events ...incident.Event) error
	// Timeline returns an incident's events in the order they happened.
	Timeline(ctx context.Context, incidentID string) ([]incident.Event, error)

	// Every change above (Apply, blocks, residences, incidents) writes
	// audit entries in its own transaction, as made by audit.Actor(ctx).
	// AuditHead is the chain's last entry; ScanAudit streams the log in
	// sequence order.
	AuditHead(ctx context.Context) (audit.Head, error)
	ScanAudit(ctx context.Context, f AuditFilter, fn func(audit.Entry) error) error

	// Users, sessions and API tokens (auth). Every change writes audit
	// entries without secrets or hashes; touches (last seen, last used)
	// write none.
	//
	// CreateUser stores a new user; ErrConflict if the name is taken.
	CreateUser(ctx context.Context, u auth.User) (auth.User, error)
	GetUser(ctx context.Context, name string) (auth.User, error)
	// ListUsers returns users in name order.
	ListUsers(ctx context.Context) ([]auth.User, error)
	// UpdateUser changes a user's role, password hash or disabled flag.
	// Disabling a user or changing its password (not a rehash) deletes its
	// sessions in the same transaction. A change that would leave no
	// enabled admin, where there was one, is refused with ErrConflict.
	UpdateUser(ctx context.Context, name string, up UserUpdate) (auth.User, error)
	// DeleteUser deletes a user and its sessions and revokes its tokens, in
	// one transaction; ErrConflict if it is the last enabled admin.
	DeleteUser(ctx context.Context, name string) error

	// CreateSession stores a session; ErrNotFound if the user does not
	// exist, ErrConflict if the id or hash does.
	CreateSession(ctx context.Context, s auth.Session) error
	// GetSession finds a session by its secret's hash. Sessions past their
	// ExpiresAt are not found (ErrNotFound); the idle timeout is the
	// caller's (auth.SessionPolicy).
	GetSession(ctx context.Context, hash string) (auth.Session, error)
	// TouchSession moves a session's LastSeen forward to at (never back).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession ends one session (logout); ErrNotFound if none.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of a user and says how many.
	DeleteUserSessions(ctx context.Context, user string) (int, error)
	// DeleteExpiredSessions removes sessions past their ExpiresAt.
	DeleteExpiredSessions(ctx context.Context) (int, error)

	// CreateToken stores an API token; ErrNotFound if the user does not
	// exist, ErrConflict if the id or hash does.
	CreateToken(ctx context.Context, t auth.Token) error
	// GetToken finds a token by its secret's hash. Revoked and expired
	// tokens are not found (ErrNotFound).
	GetToken(ctx context.Context, hash string) (auth.Token, error)
	// ListTokens returns tokens, revoked and expired ones too, of one user
	// or ("") all, oldest first.
	ListTokens(ctx context.Context, user string) ([]auth.Token, error)
	// RevokeToken revokes a token by id; ErrNotFound if there is no such
	// token or it is revoked already.
	RevokeToken(ctx context.Context, id string) error
	// TouchToken moves a token's LastUsed forward to at (never back).
	TouchToken(ctx context.Context, id string, at time.Time) error

	// ChangePassword is a user changing their own password, in one
	// transaction: only if the stored hash is still oldHash (else
	// ErrConflict, and nothing changes), it stores newHash, clears the
	// one-time flag, ends every session of the user and creates x.
	// ErrNotFound if there is no such user, ErrConflict if it is disabled.
	ChangePassword(ctx context.Context, name, oldHash, newHash string, x auth.Session) (auth.User, error)

	// Single sign-on identities (identity.go). LinkIdentity binds an
	// identity to its user (audited as link user:NAME); ErrNotFound if the
	// user does not exist, ErrConflict if the identity is linked already
	// or the user is linked to another subject at that issuer.
	LinkIdentity(ctx context.Context, id Identity) (Identity, error)
	// GetIdentity finds the link of an identity; ErrNotFound if none.
	GetIdentity(ctx context.Context, issuer, subject string) (Identity, error)
	// UserIdentities lists a user's links, in issuer order.
	UserIdentities(ctx context.Context, user string) ([]Identity, error)
	// UnlinkIdentity removes a user's link at an issuer (audited as
	// unlink user:NAME); ErrNotFound if there is none. DeleteUser removes
	// a user's links too.
	UnlinkIdentity(ctx context.Context, user, issuer string) error
}

// UserUpdate is a change to a user: nil fields stay as they are.
type UserUpdate struct {
	Role     *auth.Role
	Disabled *bool
	// PasswordHash is a new password's hash ("": no password login).
	PasswordHash *string
	// Rehash says PasswordHash is the same password under new parameters:
	// the user's sessions stay.
	Rehash bool
	// MustChangePassword sets or clears the one-time flag.
	MustChangePassword *bool
}

// AuditFilter selects audit entries: from a sequence number, of one object
// ("vendor:mixpanel").
type AuditFilter struct {
	From   int64
	Object string
}

// IncidentFilter selects incidents. Empty fields match everything.
type IncidentFilter struct {
	Vendor string
	Status string
	// Open leaves out closed incidents.
	Open bool
	// Limit (0: all) and Offset page the result.
	Limit, Offset int
}

// Residence is where the person behind a ledger subject lives.
type Residence struct {
	Subject string `json:"subject"` // as the ledger keys it
	// ExternalID is the customer's own id for the person, when given (the
	// ledger may hold only a keyed hash of it).
	ExternalID   string `json:"external_id,omitempty"`
	Jurisdiction string `json:"jurisdiction"` // "DE", "US-CA"
}

// Block is a vendor's kill switch.
type Block struct {
	Vendor    string    `json:"vendor"`
	Reason    string    `json:"reason,omitempty"`
	BlockedBy string    `json:"blocked_by,omitempty"`
	BlockedAt time.Time `json:"blocked_at"`
}

// Gate is what a gateway needs to know to forward to a vendor.
type Gate struct {
	Exists bool
	Status string
	Block  *Block // nil when not blocked
}

// LedgerEntry is one vendor having received one category of data about one
// subject.
type LedgerEntry struct {
	Vendor    string    `json:"vendor"`
	Subject   string    `json:"subject"`
	Category  string    `json:"category"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Messages  int64     `json:"messages"`
	// Jurisdiction and ExternalID come from the subject's residence, when
	// the filter asks for it and one was recorded.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	ExternalID   string `json:"external_id,omitempty"`
}

// ActionCount counts fields the gateway dropped, hashed, redacted,
// generalized or blocked, per category.
type ActionCount struct {
	Vendor   string `json:"vendor"`
	Action   string `json:"action"`
	Category string `json:"category"`
	Count    int64  `json:"count"`
}

// LedgerFilter selects ledger rows. Empty fields match everything; a row
// matches a time window when it was seen within it (first_seen ≤ To and
// last_seen ≥ From).
type LedgerFilter struct {
	Vendor string
	// Vendors selects several vendors (with Vendor, if set).
	Vendors  []string
	Category string // with its descendants and ancestors, as FlowFilter
	From, To time.Time
	// Residence joins each subject's recorded residence.
	Residence bool
}

// LedgerSummary is what one vendor received, by category.
type LedgerSummary struct {
	Vendor     string            `json:"vendor"`
	Subjects   int64             `json:"subjects"`
	Categories []CategorySummary `json:"categories"`
	Actions    []ActionCount     `json:"actions"`
}

// CategorySummary is one category a vendor received.
type CategorySummary struct {
	Category  string    `json:"category"`
	Subjects  int64     `json:"subjects"`
	Messages  int64     `json:"messages"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Overview is the inventory and the gateway in numbers: what the
// dashboard shows.
type Overview struct {
	// Vendors counts vendors by (category, status), in that order.
	Vendors []VendorCount `json:"vendors"`
	// Categories counts, for each category that a flow declares, the flows
	// and the distinct vendors that receive it, in category order.
	Categories []CategoryCount `json:"categories"`
	// Sources counts flows by how they are known (declared, discovered,
	// observed), in source order.
	Sources []SourceCount `json:"sources"`
	// Recent are the latest flows that discovery or the gateway recorded
	// (source discovered or observed), newest change first, at most 10.
	Recent []inventory.Flow `json:"recent"`
	// Gateway is the ledger's action counts by vendor and action (keep,
	// drop, hash, ...), in that order.
	Gateway []ActionTotal `json:"gateway"`
}

// VendorCount is the number of vendors of one category and status.
type VendorCount struct {
	Category string `json:"category"`
	Status   string `json:"status"`
	N        int64  `json:"n"`
}

// CategoryCount is how many flows and vendors a declared category reaches.
type CategoryCount struct {
	Category string `json:"category"`
	Flows    int64  `json:"flows"`
	Vendors  int64  `json:"vendors"`
}

// SourceCount is the number of flows from one source.
type SourceCount struct {
	Source string `json:"source"`
	N      int64  `json:"n"`
}

// ActionTotal is how many fields a gateway's policy handled one way for a
// vendor, over all categories.
type ActionTotal struct {
	Vendor string `json:"vendor"`
	Action string `json:"action"`
	Count  int64  `json:"count"`
}

// FlowMatch is a flow that carries a category, and the vendor receiving it.
type FlowMatch struct {
	Flow, System, Vendor string
	// Category is the flow's declared key that overlaps the asked one.
	Category                                 string
	VendorName, VendorStatus, VendorCategory string
}
