// Package gateway is weaklink's data-minimization gateway: a reverse proxy in
// front of vendor ingestion APIs that applies a privacy policy to every
// message, records what each vendor actually received (the ledger), stops
// forwarding to a blocked vendor within seconds, and spools accepted
// messages when an upstream is down.
package gateway

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/gateway/adapter"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
	"github.com/weaklink/weaklink/internal/textutil"
	"github.com/weaklink/weaklink/internal/yamlx"
	"go.yaml.in/yaml/v3"
)

// Config is a gateway configuration file (kind: gateway).
type Config struct {
	Kind     string             `yaml:"kind"`
	Version  int                `yaml:"version"`
	Listen   string             `yaml:"listen"`
	HashKey  SecretRef          `yaml:"hash_key"`
	Ledger   LedgerConfig       `yaml:"ledger"`
	Spool    SpoolConfig        `yaml:"spool"`
	Limits   Limits             `yaml:"limits"`
	Routes   []RouteConfig      `yaml:"routes"`
	Policies map[string]*Policy `yaml:"policies"`

	file    string
	hashKey []byte
}

// SecretRef names where a secret is: an environment variable or a file. The
// value itself never appears in configuration or logs.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// LedgerConfig says how the ledger is kept.
type LedgerConfig struct {
	// Subjects is "hashed" (default: a keyed hash of the customer's id) or
	// "plaintext".
	Subjects      string   `yaml:"subjects"`
	FlushInterval Duration `yaml:"flush_interval"`
}

// SpoolConfig bounds the on-disk spool of messages for unavailable upstreams.
type SpoolConfig struct {
	Dir      string `yaml:"dir"`
	MaxBytes int64  `yaml:"max_bytes"`
}

// Limits protect the gateway and its upstreams.
type Limits struct {
	MaxBodyBytes    int64    `yaml:"max_body_bytes"`
	UpstreamTimeout Duration `yaml:"upstream_timeout"`
}

// RouteConfig maps a path prefix on the gateway to a vendor's ingestion API.
type RouteConfig struct {
	Prefix   string `yaml:"prefix"`
	Vendor   string `yaml:"vendor"`
	System   string `yaml:"system"`
	Adapter  string `yaml:"adapter"`
	Upstream string `yaml:"upstream"`
	Policy   string `yaml:"policy"`
	// OnParseError is "block" (default: refuse a body the adapter cannot
	// parse) or "pass" (forward it unchanged, counted and logged).
	OnParseError string `yaml:"on_parse_error"`
	// AllowUnapproved forwards to a vendor that is not approved or active in
	// the inventory. Off by default: unknown and unapproved vendors are blocked.
	AllowUnapproved bool `yaml:"allow_unapproved"`
	// Purpose is the purpose of the observed flow the route records in the
	// inventory (default analytics).
	Purpose string `yaml:"purpose"`
	// Generic configures the generic JSON adapter.
	Generic *GenericRoute `yaml:"generic"`
}

// GenericRoute configures the generic JSON adapter: where messages and their
// fields are in the payload.
type GenericRoute struct {
	Paths       []string `yaml:"paths"`
	PassThrough []string `yaml:"pass_through"`
	Messages    string   `yaml:"messages"`
	Kind        string   `yaml:"kind"`
	Name        string   `yaml:"name"`
	Props       []string `yaml:"props"`
	Fields      []string `yaml:"fields"`
	Subject     string   `yaml:"subject"`
	Dedup       string   `yaml:"dedup"`
}

// Policy is what a vendor may receive.
type Policy struct {
	// Mode is "allow" (fields no rule names are dropped) or "deny" (they are
	// kept unless a category rule says otherwise).
	Mode string `yaml:"mode"`
	// ClientIP is what the vendor learns of the client's IP address: "drop"
	// (default), "truncate" (/24 or /48) or "keep".
	ClientIP string `yaml:"client_ip"`
	// Rules apply to every kind of message; Event, Profile and Group add to
	// and override them for that kind.
	Rules   `yaml:",inline"`
	Event   *Rules `yaml:"event"`
	Profile *Rules `yaml:"profile"`
	Group   *Rules `yaml:"group"`

	once   sync.Once
	byKind map[adapter.Kind]Rules
}

// Rules name fields by key and data by category.
type Rules struct {
	Fields     map[string]Rule `yaml:"fields"`
	Categories map[string]Rule `yaml:"categories"`
	// DropEvents lists event names that are never forwarded.
	DropEvents []string `yaml:"drop_events"`
}

// Actions a rule can take.
const (
	ActKeep       = "keep"
	ActDrop       = "drop"
	ActRedact     = "redact"
	ActHash       = "hash"
	ActTruncateIP = "truncate_ip"
	ActGeneralize = "generalize"
	ActBucket     = "bucket"
)

// Actions lists every action.
var Actions = []string{ActKeep, ActDrop, ActRedact, ActHash, ActTruncateIP, ActGeneralize, ActBucket}

// Rule is one action with its parameters. In YAML it is either the action
// alone (`$email: drop`) or a mapping (`age: {action: bucket, bounds: [18, 25, 35]}`).
type Rule struct {
	Action string `yaml:"action"`
	// To is the level generalize keeps: country, region or city for
	// locations; family or major for browsers and OS; month or year for dates.
	To string `yaml:"to"`
	// Size buckets numbers into ranges of this width; Bounds into explicit
	// ranges. Unit buckets dates: day, month or year.
	Size   float64   `yaml:"size"`
	Bounds []float64 `yaml:"bounds"`
	Unit   string    `yaml:"unit"`

	line, column int
}

// UnmarshalYAML reads a rule from a scalar or a mapping.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	r.line, r.column = n.Line, n.Column
	if n.Kind == yaml.ScalarNode {
		r.Action = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a rule is an action (drop, hash…) or a mapping with action", n.Line)
	}
	known := []string{"action", "to", "size", "bounds", "unit"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(known, k) {
			return fmt.Errorf("line %d: unknown rule field %q%s", n.Content[i].Line, k, textutil.DidYouMean(k, known))
		}
	}
	type plain Rule
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	p.line, p.column = r.line, r.column
	*r = Rule(p)
	return nil
}

// Duration is a time.Duration written as "2s", "500ms".
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (write 2s, 500ms, 1m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Adapters are the wire formats a route can use.
var Adapters = []string{"mixpanel", "segment", "amplitude", "ga4", "generic"}

// Defaults.
const (
	DefaultMaxBodyBytes    = 5 << 20
	DefaultUpstreamTimeout = 10 * time.Second
	DefaultFlushInterval   = 2 * time.Second
	DefaultSpoolBytes      = 256 << 20
)

// LoadConfig reads and validates a gateway configuration file. lookupEnv
// resolves hash_key.env (os.LookupEnv in production). Every problem is
// reported with file, line and column.
func LoadConfig(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, b, lookupEnv)
}

// ParseConfig is LoadConfig on bytes.
func ParseConfig(file string, b []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	doc, err := yamlx.Parse(file, b)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := doc.Decode(&c); err != nil {
		return nil, err
	}
	c.file = file
	var errs yamlx.Errors
	add := func(msg string, path ...any) { errs = append(errs, doc.At(msg, path...)) }

	if c.Kind != "gateway" {
		add(fmt.Sprintf("kind must be gateway, found %q", c.Kind), "kind")
	}
	if c.Version != 0 && c.Version != 1 {
		add("unsupported version (this weaklink reads version 1)", "version")
	}
	switch {
	case c.HashKey.Env != "" && c.HashKey.File != "":
		add("give hash_key.env or hash_key.file, not both", "hash_key")
	case c.HashKey.Env != "":
		v, ok := lookupEnv(c.HashKey.Env)
		if !ok || len(v) < 16 {
			add(fmt.Sprintf("environment variable %s must hold a key of at least 16 bytes", c.HashKey.Env), "hash_key", "env")
		}
		c.hashKey = []byte(v)
	case c.HashKey.File != "":
		k, err := os.ReadFile(c.HashKey.File)
		k = []byte(strings.TrimSpace(string(k)))
		if err != nil || len(k) < 16 {
			add(fmt.Sprintf("file %s must hold a key of at least 16 bytes", c.HashKey.File), "hash_key", "file")
		}
		c.hashKey = k
	default:
		add("hash_key is required (env: VAR or file: PATH): hashed ids and ledger subjects need a secret key", "hash_key")
	}
	switch c.Ledger.Subjects {
	case "":
		c.Ledger.Subjects = "hashed"
	case "hashed", "plaintext":
	default:
		add(fmt.Sprintf("%q is not hashed or plaintext", c.Ledger.Subjects), "ledger", "subjects")
	}
	if c.Ledger.FlushInterval <= 0 {
		c.Ledger.FlushInterval = Duration(DefaultFlushInterval)
	}
	if c.Limits.MaxBodyBytes <= 0 {
		c.Limits.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Limits.UpstreamTimeout <= 0 {
		c.Limits.UpstreamTimeout = Duration(DefaultUpstreamTimeout)
	}
	if c.Spool.MaxBytes <= 0 {
		c.Spool.MaxBytes = DefaultSpoolBytes
	}
	if len(c.Routes) == 0 {
		add("at least one route is required", "routes")
	}
	policyNames := make([]string, 0, len(c.Policies))
	for name := range c.Policies {
		policyNames = append(policyNames, name)
	}
	slices.Sort(policyNames)
	prefixes := map[string]int{}
	for i := range c.Routes {
		r := &c.Routes[i]
		if !strings.HasPrefix(r.Prefix, "/") || !strings.HasSuffix(r.Prefix, "/") {
			add(fmt.Sprintf("prefix %q must start and end with /", r.Prefix), "routes", i, "prefix")
		} else if j, dup := prefixes[r.Prefix]; dup {
			add(fmt.Sprintf("prefix %q is already used by routes[%d]", r.Prefix, j), "routes", i, "prefix")
		}
		prefixes[r.Prefix] = i
		if !textutil.IsSlug(r.Vendor) {
			add(fmt.Sprintf("vendor %q is not a vendor id", r.Vendor), "routes", i, "vendor")
		}
		if !textutil.IsSlug(r.System) {
			add(fmt.Sprintf("system %q is not a system id: name the inventory system that sends this traffic", r.System), "routes", i, "system")
		}
		if r.Purpose == "" {
			r.Purpose = "analytics"
		} else if !slices.Contains(inventory.Purposes, r.Purpose) {
			add(fmt.Sprintf("purpose %q is not one of %s", r.Purpose, strings.Join(inventory.Purposes, ", ")), "routes", i, "purpose")
		}
		if !slices.Contains(Adapters, r.Adapter) {
			add(fmt.Sprintf("adapter %q is not one of %s%s", r.Adapter, strings.Join(Adapters, ", "), textutil.DidYouMean(r.Adapter, Adapters)), "routes", i, "adapter")
		}
		if r.Adapter == "generic" && r.Generic == nil {
			add("the generic adapter needs a generic: section (paths, messages, props…)", "routes", i)
		}
		if u, err := url.Parse(r.Upstream); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			add(fmt.Sprintf("upstream %q must be an http(s) URL with no path or query (https://api.mixpanel.com)", r.Upstream), "routes", i, "upstream")
		}
		if _, ok := c.Policies[r.Policy]; !ok {
			add(fmt.Sprintf("unknown policy %q%s", r.Policy, textutil.DidYouMean(r.Policy, policyNames)), "routes", i, "policy")
		}
		switch r.OnParseError {
		case "":
			r.OnParseError = "block"
		case "block", "pass":
		default:
			add(fmt.Sprintf("%q is not block or pass", r.OnParseError), "routes", i, "on_parse_error")
		}
	}
	tax := taxonomy.Default()
	for _, name := range policyNames {
		p := c.Policies[name]
		if p == nil {
			add("empty policy", "policies", name)
			continue
		}
		switch p.Mode {
		case "allow", "deny":
		case "":
			add("mode is required: allow (unlisted fields are dropped) or deny (they are kept)", "policies", name)
		default:
			add(fmt.Sprintf("mode %q is not allow or deny", p.Mode), "policies", name, "mode")
		}
		switch p.ClientIP {
		case "":
			p.ClientIP = ActDrop
		case ActDrop, "truncate", ActKeep:
		default:
			add(fmt.Sprintf("client_ip %q is not drop, truncate or keep", p.ClientIP), "policies", name, "client_ip")
		}
		for kind, rules := range map[string]*Rules{"": &p.Rules, "event": p.Event, "profile": p.Profile, "group": p.Group} {
			if rules == nil {
				continue
			}
			at := func(section, key string) []any {
				path := []any{"policies", name}
				if kind != "" {
					path = append(path, kind)
				}
				return append(path, section, key)
			}
			for key, r := range rules.Fields {
				if msg := checkRule(r); msg != "" {
					add(msg, at("fields", key)...)
				}
			}
			for key, r := range rules.Categories {
				if err := tax.Check(key); err != nil {
					add(err.Error(), at("categories", key)...)
				}
				if msg := checkRule(r); msg != "" {
					add(msg, at("categories", key)...)
				}
			}
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b yamlx.Error) int { return a.Line - b.Line })
		return nil, errs
	}
	return &c, nil
}

func checkRule(r Rule) string {
	if !slices.Contains(Actions, r.Action) {
		return fmt.Sprintf("action %q is not one of %s%s", r.Action, strings.Join(Actions, ", "), textutil.DidYouMean(r.Action, Actions))
	}
	switch r.Action {
	case ActGeneralize:
		if !slices.Contains([]string{"country", "region", "city", "family", "major", "month", "year", "day"}, r.To) {
			return fmt.Sprintf("generalize needs to: country, region or city (locations), family or major (browser, OS), day, month or year (dates); found %q", r.To)
		}
	case ActBucket:
		if r.Size <= 0 && len(r.Bounds) == 0 && r.Unit == "" {
			return "bucket needs size (numbers), bounds (numbers) or unit: day, month or year (dates)"
		}
		if !slices.IsSorted(r.Bounds) {
			return "bucket bounds must be in increasing order"
		}
	}
	return ""
}

// File is where the configuration was read from.
func (c *Config) File() string { return c.file }

// HashKeyBytes is the secret for keyed hashes.
func (c *Config) HashKeyBytes() []byte { return c.hashKey }

// RouteFor returns the route for a vendor.
func (c *Config) RouteFor(vendor string) (*RouteConfig, bool) {
	for i := range c.Routes {
		if c.Routes[i].Vendor == vendor {
			return &c.Routes[i], true
		}
	}
	return nil, false
}
