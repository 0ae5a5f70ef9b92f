package taxonomy

// Classifier: recognises personal data in field names and string values, and
// walks JSON documents (analytics payloads) reporting both.
//
// Design notes
//
//   - Field names are split into lowercase tokens ($, _, -, ., space and
//     camelCase boundaries), joined with "_" and looked up, longest suffix
//     first, in an index built from the tree's `fields:` lists plus built-in
//     vendor synonyms. A generic word ("name", "city", "url") only matches
//     on its own or after a person qualifier ("customer_name"), a distinctive
//     one ("email", "password", "ip") after any prefix ("billing_email").
//     In ScanJSON the key of the enclosing object takes part, so
//     context.os.name is a user agent, events[].name is nothing and
//     traits.address.city is a postal city.
//   - Value detectors work on bytes without regexp and run only when a cheap
//     character census of the value says they can match ('@' for e-mail,
//     digit counts for phones and cards, dots for IPv4, colons for IPv6...).
//   - ScanJSON is a hand-written, allocation-free (per token) JSON scanner
//     that validates like encoding/json.Valid.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Finding is personal data found in a field name or a value.
type Finding struct {
	Category   string  // taxonomy key, e.g. "user.contact.email"; "" for KindHash
	Kind       string  // what matched: one of the Kind constants
	Start, End int     // byte span of the match in the value (0..len for a whole value or name)
	Confidence float64 // 0..1
}

// Kinds of findings.
const (
	KindFieldName     = "field_name"     // the field's name says what it holds
	KindEmail         = "email"          // local@domain.tld, also URL-encoded (%40)
	KindPhone         = "phone"          // E.164 or formatted national numbers
	KindIP            = "ip"             // IPv4 or IPv6 address
	KindCard          = "card"           // Luhn-valid payment card with a known IIN
	KindIBAN          = "iban"           // IBAN with a valid mod-97 checksum
	KindJWT           = "jwt"            // JSON Web Token whose header decodes to JSON with "alg"
	KindAPIKey        = "api_key"        // provider key shapes (Stripe, OpenAI, AWS...)
	KindBearerToken   = "bearer_token"   // the token after "Bearer "
	KindBasicAuth     = "basic_auth"     // "Basic " + base64(user:password)
	KindSSN           = "ssn"            // US social security number ddd-dd-dddd
	KindNINO          = "nino"           // UK national insurance number
	KindStreetAddress = "street_address" // house number and street (conservative)
	KindCoordinates   = "coordinates"    // "lat,lng" decimal degree pair
	KindHash          = "hash"           // 64 hex characters (SHA-256); Category is ""
)

// Categories the value detectors report. A tree that lacks one gets its
// nearest defined ancestor instead.
const (
	catEmail      = "user.contact.email"
	catPhone      = "user.contact.phone_number"
	catIP         = "user.device.ip_address"
	catCard       = "user.financial.credit_card"
	catBank       = "user.financial.bank_account"
	catCreds      = "user.authorization.credentials"
	catNationalID = "user.government_id.national_identification_number"
	catStreet     = "user.contact.address.street"
	catPrecise    = "user.location.precise"
	catImprecise  = "user.location.imprecise"
	catReferrer   = "user.behavior.referrer"
)

// Classifier finds personal data in field names, values and JSON documents.
// It is safe for concurrent use; its only mutable state is a bounded cache
// of classified JSON keys.
type Classifier struct {
	names   map[string]nameEntry // normalized field name → entry
	compact map[string]nameEntry // the same without "_", for names written as one word: KundenNummer vs kundennummer
	tokens  map[string]uint8     // token → tok* flags
	addr    map[string]string    // location word → postal-address category, used in address context

	// value detector categories, resolved against the tree
	email, phone, ip, card, bank, creds, natID, street, precise, referrer string

	mu       sync.RWMutex
	keyCache map[string]keyResult // container+"\x00"+key, cleared when it reaches keyCacheMax
}

type nameEntry struct {
	cat    string // "" means neutral: a known non-personal name, stop looking
	strong bool   // distinctive enough to match after any prefix
}

type keyResult struct {
	cat  string
	conf float64
	ok   bool
}

const keyCacheMax = 4096

// token flags
const (
	tokQualifier = 1 << iota // a word that keeps a generic field personal: customer_name, billing_city
	tokNonPerson             // an object whose generic fields are not about a person: events[].name, library.name
	tokAddress               // a word that puts location fields into a postal address: billing_city
	tokModifier              // a trailing word that does not change the category: email_hash
	tokAmbiguous             // a word whose meaning depends on the object it is in: name, title, url
)

var defaultClassifier = sync.OnceValue(func() *Classifier { return NewClassifier(Default()) })

// DefaultClassifier returns the classifier for the embedded taxonomy, built once.
func DefaultClassifier() *Classifier { return defaultClassifier() }

// NewClassifier builds a classifier from a taxonomy tree (nil means Default()).
// The tree's `fields:` lists are authoritative; built-in vendor synonyms fill
// the gaps, and a category missing from the tree is replaced by its nearest
// defined ancestor (or dropped when there is none).
func NewClassifier(t *Tree) *Classifier {
	if t == nil {
		t = Default()
	}
	c := &Classifier{
		names:  make(map[string]nameEntry, 800),
		tokens: make(map[string]uint8, 200),
		addr:   make(map[string]string, 8),

		keyCache: make(map[string]keyResult, 256),
	}
	resolve := func(key string) string {
		for k := key; k != ""; k = Parent(k) {
			if t.Has(k) {
				return k
			}
		}
		return ""
	}
	orKey := func(key string) string {
		if r := resolve(key); r != "" {
			return r
		}
		return key
	}
	c.email, c.phone, c.ip, c.card, c.bank = orKey(catEmail), orKey(catPhone), orKey(catIP), orKey(catCard), orKey(catBank)
	c.creds, c.natID, c.street, c.precise = orKey(catCreds), orKey(catNationalID), orKey(catStreet), orKey(catPrecise)
	c.referrer = orKey(catReferrer)

	strong := make(map[string]bool, len(strongNames))
	for _, n := range strings.Fields(strongNames) {
		strong[normalizeName(n)] = true
	}
	add := func(name, cat string) {
		n := normalizeName(name)
		if n == "" {
			return
		}
		c.names[n] = nameEntry{cat: cat, strong: strong[n]}
	}
	// 1. built-in synonyms (lowest precedence)
	for _, s := range builtinNames {
		cat := ""
		if s.cat != "" {
			if cat = resolve(s.cat); cat == "" {
				continue
			}
		}
		for _, n := range strings.Fields(s.names) {
			add(n, cat)
		}
	}
	// 2. the tree's own field lists; non-personal categories (sensitivity 0)
	// make their names neutral.
	for _, cat := range t.All() {
		for _, f := range cat.Fields {
			if cat.Sensitivity == 0 {
				add(f, "")
			} else {
				add(f, cat.Key)
			}
		}
	}
	// 3. analytics overrides: names that the tree lists twice once
	// normalized ($city and city, anonymousId and anonymous_id) or that mean
	// a coarse location in analytics payloads unless an address qualifier
	// says otherwise (see addrWords).
	for _, s := range overrideNames {
		if cat := resolve(s.cat); cat != "" {
			for _, n := range strings.Fields(s.names) {
				add(n, cat)
			}
		}
	}
	// compact forms: a name written as one word in the index wins; otherwise
	// the first in sorted order, for determinism
	c.compact = make(map[string]nameEntry, len(c.names))
	for _, n := range slices.Sorted(maps.Keys(c.names)) {
		k := strings.ReplaceAll(n, "_", "")
		if _, dup := c.compact[k]; !dup || k == n {
			c.compact[k] = c.names[n]
		}
	}
	for _, s := range tokenFlagLists {
		for _, w := range strings.Fields(s.words) {
			c.tokens[w] |= s.flag
		}
	}
	for w, cat := range addrWords {
		if r := resolve(cat); r != "" {
			c.addr[w] = r
		}
	}
	return c
}

// builtinNames are vendor and common synonyms, written in any case or
// separator style (they are normalized). An empty cat marks neutral names.
var builtinNames = []struct{ cat, names string }{
	{"user.name", "name full_name fullname display_name displayname real_name legal_name person_name contact_name customer_name cardholder_name card_holder_name holder_name account_holder_name"},
	{"user.name.first", "first_name firstname given_name givenname fname forename"},
	{"user.name.last", "last_name lastname surname family_name familyname lname"},
	{"user.contact.email", "email emails e_mail email_address emailaddress email_addr mail mail_address sha256_email_address hashed_email email_hash user_data.em"},
	{"user.contact.phone_number", "phone phone_number phonenumber phone_no telephone telephone_number tel mobile mobile_number mobile_phone cell cell_phone cellphone msisdn sha256_phone_number hashed_phone phone_hash user_data.ph"},
	{"user.contact.address", "address addresses postal_address mailing_address home_address billing_address shipping_address"},
	{"user.contact.address.street", "street street_address streetaddress street_name address_line1 address_line2 address_line_1 address_line_2 addressline1 line1 line2 address1 address2 house_number"},
	{"user.contact.address.postal_code", "zip zipcode zip_code postcode post_code postal_code postalcode user_data.zp"},
	{"user.contact.address.state", "state province"},
	{"user.contact.url", "website homepage blog twitter twitter_handle github github_username linkedin linkedin_url facebook facebook_url instagram profile_url"},
	{"user.contact.organization", "company company_name company_id org org_id org_name organization organization_id organization_name organisation organisation_id group_id groupid tenant_id workspace_id"},
	{"user.unique_id", "user_id userid distinct_id uid account_id customer_id external_id member_id person_id profile_id contact_id visitor_id player_id subscriber_id previous_id identified_id user_data.external_id"},
	{"user.unique_id.pseudonymous", "anonymous_id_hash hashed_user_id"},
	{"user.account.username", "username user_name login handle screen_name screenname nickname"},
	{"user.account.settings", "plan plan_name locale preferences"},
	{"user.location.imprecise", "country_code country_id region_id geo_city geo_country geo_region location_city location_country location_region dma metro_code timezone time_zone user_data.ct user_data.st"},
	{"user.location.precise", "lat lon lng latitude longitude location_lat location_lng location_lon geo_lat geo_lng geo_lon location_latitude location_longitude gps coordinates geo_coordinates geolocation"},
	{"user.device.ip_address", "ip ips ip_address ipaddress ipv4 ipv6 ip_override client_ip client_ip_address remote_ip remote_addr x_forwarded_for forwarded_for x_real_ip uip"},
	{"user.device.device_id", "device_id deviceid anonymous_id anon_id client_id installation_id install_id cid"},
	{"user.device.cookie_id", "_ga _gid cookie cookie_id mp_mixpanel_cookie ajs_anonymous_id fbp fbc _fbp _fbc"},
	{"user.device.user_agent", "user_agent useragent client_user_agent browser browser_version browser_name os os_name os_version device device_model device_type device_category device_manufacturer device_brand device_family carrier screen_width screen_height screen_dpi screen_density screen_resolution sr viewport_width viewport_height"},
	{"user.device.advertising_id", "idfa idfv adid gaid aaid ad_id advertising_id advertisingid gclid fbclid msclkid ttclid dclid wbraid gbraid twclid li_fat_id yclid"},
	{"user.behavior.browsing_history", "url current_url page_url page_location page_path page_title page_search pathname current_page landing_page href dl dp dt"},
	{"user.behavior.referrer", "referrer referer referring_domain initial_referrer initial_referring_domain page_referrer document_referrer search_engine dr campaign campaign_name campaign_source campaign_medium campaign_term campaign_content"},
	{"user.behavior.search_history", "query search_term search_query search_string keyword keywords q"},
	{"user.content.self_image", "avatar avatar_url photo photo_url picture profile_picture profile_image profile_photo"},
	{"user.financial.credit_card", "card_number cardnumber cc_number credit_card credit_card_number pan cvv cvc card_cvc"},
	{"user.financial.bank_account", "iban account_number bank_account bank_account_number routing_number sort_code"},
	{"user.government_id.national_identification_number", "ssn social_security_number nin nino national_id national_insurance_number tax_id taxpayer_id tin personnummer bsn cpf aadhaar"},
	{"user.government_id.passport_number", "passport passport_number passport_no"},
	{"user.government_id.drivers_license_number", "drivers_license driver_license drivers_license_number driving_licence license_number"},
	{"user.authorization.credentials", "password passwd passphrase secret client_secret api_secret secret_key private_key signing_key api_key apikey access_key access_token refresh_token id_token auth_token session_token token bearer authorization auth session_id sessionid write_key otp"},
	{"user.demographic.date_of_birth", "dob birthday birthdate birth_date date_of_birth birth_year user_data.db"},
	{"user.demographic.gender", "gender sex user_data.ge"},
	{"user.demographic.age_range", "age age_range"},
	{"user.demographic.language", "language lang ul"},
	{"user.health_and_medical", "medical_condition blood_type"},
	{"user.workplace", "employer job_title occupation"},
	{"user.privacy_preferences", "consent opt_out optout gdpr_consent do_not_track dnt tracking_consent"},
	{"user.name.first", "user_data.fn"},
	{"user.name.last", "user_data.ln"},
	// neutral: known non-personal names that would otherwise end in a
	// personal word, or that vendors reserve for bookkeeping
	{"", "event event_name event_type type time timestamp timestamp_micros insert_id message_id event_id mp_lib lib lib_version library library_name library_version app_name app_version version build count total_count token_count tokens page_token next_page_token continuation_token pagination_token sync_token duration latency duration_ms sent_at received_at created_at updated_at"},
}

// overrideNames win over the tree's fields. bare city/country/region in an
// analytics payload is the geo-IP location (Mixpanel $city, Amplitude
// city/country); with an address qualifier (traits.address.city,
// billing_country) addrWords turns them into postal-address categories.
var overrideNames = []struct{ cat, names string }{
	{"user.location.imprecise", "city country region"},
	{"user.device.device_id", "anonymous_id"},
}

// addrWords are location words that become postal-address categories after
// an address qualifier.
var addrWords = map[string]string{
	"city":         "user.contact.address.city",
	"country":      "user.contact.address.country",
	"country_code": "user.contact.address.country",
	"region":       "user.contact.address.state",
	"state":        "user.contact.address.state",
	"province":     "user.contact.address.state",
	"county":       "user.contact.address.state",
}

// strongNames match after any prefix: billing_email, client_ip, stripe_api_key.
const strongNames = `email emails e_mail email_address emailaddress email_addr
phone phone_number phonenumber telephone telephone_number mobile_number mobile_phone cell_phone msisdn
ip ip_address ipaddress ipv4 ipv6 x_forwarded_for
ssn social_security_number national_insurance_number iban card_number cc_number credit_card credit_card_number cvv cvc
password passwd passphrase secret client_secret api_secret secret_key private_key api_key apikey access_token refresh_token id_token auth_token session_token token write_key
first_name firstname last_name lastname full_name fullname surname given_name family_name display_name
date_of_birth dob birthday birthdate birth_date
latitude longitude location_lat location_lng
user_agent useragent referrer referer referring_domain
distinct_id user_id userid device_id deviceid anonymous_id
idfa idfv gclid fbclid msclkid ttclid advertising_id
passport_number drivers_license drivers_license_number tax_id national_id
street_address postal_code zip_code zipcode postcode address_line1 address_line2
avatar_url profile_picture`

var tokenFlagLists = []struct {
	flag  uint8
	words string
}{
	{tokQualifier, `user users customer customers cust client contact member person people profile account owner buyer payer
billing shipping delivery recipient sender primary secondary work home personal my current new old previous prev
subscriber visitor lead patient employee admin author traits context set once identify identity mp ga amp initial main
default alt alternate other real legal emergency guardian verified confirmed reg registration signup
sha256 sha1 md5 hash hashed encrypted raw normalized plain cleartext address mailing postal residential`},
	{tokNonPerson, `event events product products item items sku library app application page screen campaign category
categories plan experiment variant feature flag flags file files integration integrations element button form link
option options params param group groups company organization org os browser device network team project job
template report dashboard metric metrics tag tags step steps`},
	{tokAddress, `address addresses billing shipping mailing postal home residential delivery street`},
	{tokModifier, `hash hashed sha256 sha1 md5 encrypted enc raw plain plaintext normalized value values list`},
	{tokAmbiguous, `name title url href link state condition content body message comment handle login description
label path query q type id`},
}

// normalizeName returns the lowercase, "_"-joined tokens of name.
func normalizeName(name string) string {
	var arr [128]byte
	var st [16]int
	b, _ := appendTokens(arr[:0], st[:0], name)
	return string(b)
}

func isLowerB(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpperB(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigitB(c byte) bool { return '0' <= c && c <= '9' }
func isAlphaB(c byte) bool { return isLowerB(c) || isUpperB(c) }
func isAlnumB(c byte) bool { return isLowerB(c) || isUpperB(c) || isDigitB(c) }
func isHexB(c byte) bool {
	return isDigitB(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// appendTokens appends the lowercase tokens of name to buf, separated by
// '_', and the offset of each token to starts. Tokens break at every byte
// that is not an ASCII letter, digit or non-ASCII byte, and at camelCase
// boundaries: userId → user_id, IPAddress → ip_address, sha256Email →
// sha256_email.
func appendTokens(buf []byte, starts []int, name string) ([]byte, []int) {
	in := false
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case isLowerB(ch) || isDigitB(ch) || ch >= 0x80:
		case isUpperB(ch):
			if in {
				prev := name[i-1]
				if isLowerB(prev) || isDigitB(prev) || isUpperB(prev) && i+1 < len(name) && isLowerB(name[i+1]) {
					in = false
				}
			}
			ch += 'a' - 'A'
		default:
			in = false
			continue
		}
		if !in {
			if len(buf) > 0 {
				buf = append(buf, '_')
			}
			starts = append(starts, len(buf))
			in = true
		}
		buf = append(buf, ch)
	}
	return buf, starts
}

// FieldName classifies a field by its name alone: "$email", "Email",
// "user_email", "emailAddress", "e-mail" are all user.contact.email. A dotted
// name ("context.os.name", "traits.address.city") uses the part before the
// last dot as the enclosing object, as ScanJSON does. It returns ("", false)
// for neutral or unknown names.
func (c *Classifier) FieldName(name string) (Finding, bool) {
	parent, key := "", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		parent, key = name[:i], name[i+1:]
	}
	r := c.classifyKey(parent, key)
	if !r.ok {
		return Finding{}, false
	}
	return Finding{Category: r.cat, Kind: KindFieldName, Start: 0, End: len(name), Confidence: r.conf}, true
}

// cachedKey is classifyKey behind a bounded cache, for ScanJSON where the
// same keys repeat in every event.
func (c *Classifier) cachedKey(buf []byte, parent, key string) ([]byte, keyResult) {
	buf = append(append(append(buf[:0], parent...), 0), key...)
	c.mu.RLock()
	r, ok := c.keyCache[b2s(buf)]
	c.mu.RUnlock()
	if ok {
		return buf, r
	}
	r = c.classifyKey(parent, key)
	c.mu.Lock()
	if len(c.keyCache) >= keyCacheMax { // start over rather than keep a stale set
		clear(c.keyCache)
	}
	c.keyCache[string(buf)] = r
	c.mu.Unlock()
	return buf, r
}

func (c *Classifier) classifyKey(parent, key string) keyResult {
	var arr [160]byte
	var st [24]int
	buf, starts := appendTokens(arr[:0], st[:0], parent)
	nParent := len(starts)
	buf, starts = appendTokens(buf, starts, key)
	n := len(starts)
	if n == nParent {
		return keyResult{}
	}
	tokEnd := func(i int) int {
		if i+1 < len(starts) {
			return starts[i+1] - 1
		}
		return len(buf)
	}
	reserved := strings.HasPrefix(key, "$")
	// 1. as written
	if r, done := c.matchSuffixes(buf, starts, nParent, n, len(buf), reserved, false); done {
		return r
	}
	// 2. without trailing modifiers: email_hash, phone_sha256
	m := n
	for m-1 > nParent && c.tokens[string(buf[starts[m-1]:tokEnd(m-1)])]&tokModifier != 0 {
		m--
	}
	if m < n {
		if r, done := c.matchSuffixes(buf, starts, nParent, m, tokEnd(m-1), reserved, false); done {
			return r
		}
	}
	// 3. singular of a distinctive name: emails, phone_numbers, ips (but
	// not logins or names)
	if last := buf[starts[n-1]:]; len(last) >= 3 && last[len(last)-1] == 's' && last[len(last)-2] != 's' {
		if r, done := c.matchSuffixes(buf, starts, nParent, n, len(buf)-1, reserved, true); done {
			return r
		}
	}
	// 4. the key written as one word in the index: KundenNummer → kundennummer
	if n-nParent > 1 {
		var carr [128]byte
		cb := carr[:0]
		for _, ch := range buf[starts[nParent]:] {
			if ch != '_' {
				cb = append(cb, ch)
			}
		}
		if e, ok := c.compact[b2s(cb)]; ok && e.cat != "" {
			return keyResult{cat: e.cat, conf: 0.7, ok: true}
		}
	}
	return keyResult{}
}

// matchSuffixes looks up buf[starts[i]:end] for i = 0..nt-1, longest first.
// Tokens before nParent come from the enclosing object's key; reserved is
// set for vendor-reserved names ($city, $os); strongOnly skips generic
// entries. done reports
// that the search is decided (a match, or a neutral name).
func (c *Classifier) matchSuffixes(buf []byte, starts []int, nParent, nt, end int, reserved, strongOnly bool) (keyResult, bool) {
	tok := func(i int) string {
		e := end
		if i+1 < nt {
			e = starts[i+1] - 1
		}
		return b2s(buf[starts[i]:e])
	}
	for i := 0; i < nt; i++ {
		if i >= nParent && i+1 < nt && tok(i) == "utm" {
			return keyResult{cat: c.referrer, conf: 0.85, ok: c.referrer != ""}, true
		}
		e, ok := c.names[b2s(buf[starts[i]:end])]
		if !ok {
			continue
		}
		if e.cat == "" {
			return keyResult{}, true
		}
		if strongOnly && !e.strong {
			continue
		}
		// events[].name, library.name, page.title are not about a person
		parentOK := nParent == 0 || c.tokens[tok(nParent-1)]&tokNonPerson == 0 ||
			c.tokens[b2s(buf[starts[i]:end])]&tokAmbiguous == 0
		var conf float64
		switch {
		case i < nParent: // compound with the enclosing key: os.name, page.url
			conf = 0.85
		case i == nParent: // the key itself
			if !e.strong && !parentOK {
				return keyResult{}, true
			}
			// a generic single word ("city", "plan", "title") is less
			// certain than a specific or vendor-reserved name
			conf = 0.9
			if !e.strong && !reserved && bytesIndexByte(buf[starts[i]:end], '_') < 0 {
				conf = 0.7
			}
		default: // the key's last tokens: billing_email, customer_name
			if !e.strong {
				for j := nParent; j < i; j++ {
					if c.tokens[tok(j)]&tokQualifier == 0 {
						return keyResult{}, true
					}
				}
				conf = 0.6
			} else {
				conf = 0.8
			}
		}
		cat := e.cat
		if a, ok := c.addr[b2s(buf[starts[i]:end])]; ok {
			for j := 0; j < i; j++ {
				if c.tokens[tok(j)]&tokAddress != 0 {
					cat = a
					break
				}
			}
		}
		return keyResult{cat: cat, conf: conf, ok: true}, true
	}
	return keyResult{}, false
}

func bytesIndexByte(b []byte, c byte) int { return strings.IndexByte(b2s(b), c) }

// b2s views b as a string without copying. The result must not outlive b
// or be used after b changes; it is used for map lookups and for scanning.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// ---------------------------------------------------------------------------
// Values

// character classes for the census that gates the detectors
const (
	clOther = iota
	clDigit
	clUpper
	clLower
	clAt
	clDot
	clColon
	clDash
	clSpace
	clComma
	clPlus
	clParen
	clPct
	clUnder
	clHigh
	numClasses
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case isDigitB(b):
			t[c] = clDigit
		case isUpperB(b):
			t[c] = clUpper
		case isLowerB(b):
			t[c] = clLower
		case b >= 0x80:
			t[c] = clHigh
		}
	}
	t['@'], t['.'], t[':'], t['-'], t[' '], t[','] = clAt, clDot, clColon, clDash, clSpace, clComma
	t['+'], t['('], t[')'], t['%'], t['_'] = clPlus, clParen, clParen, clPct, clUnder
	return t
}()

// Value classifies a string value: whole-value detectors and, for free
// text, spans inside it. Findings are sorted by Start and do not overlap
// (the longer, then the more confident, of two overlapping matches wins).
// It returns nil for ordinary text.
func (c *Classifier) Value(s string) []Finding {
	return c.scanValue(s, nil)
}

// scanValue appends the findings in s to out.
func (c *Classifier) scanValue(s string, out []Finding) []Finding {
	if len(s) < 3 {
		return out
	}
	var cnt [numClasses]int
	for i := 0; i < len(s); i++ {
		cnt[charClass[s[i]]]++
	}
	n0 := len(out)
	digits, letters := cnt[clDigit], cnt[clUpper]+cnt[clLower]
	if cnt[clAt] > 0 || cnt[clPct] > 0 && strings.Contains(s, "%40") {
		out = c.findEmails(s, out)
	}
	if digits >= 4 && cnt[clDot] >= 3 {
		out = c.findIPv4(s, out)
	}
	if cnt[clColon] >= 2 {
		out = c.findIPv6(s, out)
	}
	if digits >= 8 {
		out = c.findPhones(s, out)
	}
	if digits >= 13 {
		out = c.findCards(s, out)
	}
	if digits >= 9 && cnt[clDash] >= 2 {
		out = c.findSSNs(s, out)
	}
	if digits >= 6 && cnt[clUpper] >= 3 {
		out = c.findNINOs(s, out)
	}
	if digits >= 2 && cnt[clUpper] >= 2 && len(s) >= 15 {
		out = c.findIBANs(s, out)
	}
	if len(s) >= 24 && cnt[clDot] >= 2 {
		out = c.findJWTs(s, out)
	}
	if len(s) >= 14 && (cnt[clUpper] > 0 || cnt[clUnder] > 0 || cnt[clDash] > 0) {
		out = c.findKeys(s, out)
	}
	if digits >= 1 && cnt[clSpace] >= 1 && letters >= 4 {
		out = c.findStreets(s, out)
	}
	if digits >= 8 && cnt[clComma] >= 1 && cnt[clDot] >= 2 {
		out = c.findCoordinates(s, out)
	}
	if len(s) >= 64 && digits > 0 && letters > 0 {
		out = findHashes(s, out)
	}
	return tidy(out, n0)
}

// tidy sorts out[n0:] by Start and drops overlapping findings, keeping the
// longer (then the more confident) one.
func tidy(out []Finding, n0 int) []Finding {
	f := out[n0:]
	if len(f) < 2 {
		return out
	}
	slices.SortFunc(f, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	w := 0
	for _, x := range f {
		if w > 0 && x.Start < f[w-1].End {
			k := f[w-1]
			if x.End-x.Start > k.End-k.Start || x.End-x.Start == k.End-k.Start && x.Confidence > k.Confidence {
				f[w-1] = x
			}
			continue
		}
		f[w] = x
		w++
	}
	return out[:n0+w]
}

func appendFinding(out []Finding, cat, kind string, start, end int, conf float64) []Finding {
	return append(out, Finding{Category: cat, Kind: kind, Start: start, End: end, Confidence: conf})
}

// --- e-mail -----------------------------------------------------------------

func isLocalChar(c byte) bool {
	return isAlnumB(c) || c == '.' || c == '_' || c == '+' || c == '-' || c == '\''
}

func (c *Classifier) findEmails(s string, out []Finding) []Finding {
	for i := 0; i < len(s); {
		at, w := -1, 0
		for j := i; j < len(s); j++ {
			if s[j] == '@' {
				at, w = j, 1
				break
			}
			if s[j] == '%' && j+2 < len(s) && s[j+1] == '4' && s[j+2] == '0' {
				at, w = j, 3
				break
			}
		}
		if at < 0 {
			break
		}
		i = at + w
		start := at
		for start > 0 && at-start <= 64 && isLocalChar(s[start-1]) {
			start--
		}
		for start < at && !isAlnumB(s[start]) {
			start++
		}
		if start == at || at-start > 64 || s[at-1] == '.' || strings.Contains(s[start:at], "..") {
			continue
		}
		if urlUserinfo(s, start) {
			continue
		}
		end := scanDomain(s, at+w)
		if end < 0 {
			continue
		}
		out = appendFinding(out, c.email, KindEmail, start, end, 0.95)
		i = end
	}
	return out
}

// urlUserinfo reports whether the local part starting at start is the
// userinfo of a URL (https://key@host, https://user:pass@host).
func urlUserinfo(s string, start int) bool {
	if start >= 3 && s[start-3:start] == "://" {
		return true
	}
	if start >= 1 && s[start-1] == ':' {
		k := strings.LastIndex(s[:start-1], "://")
		return k >= 0 && !strings.ContainsAny(s[k+3:start-1], "/@ ")
	}
	return false
}

// scanDomain returns the end of a valid domain (at least two labels and an
// alphabetic TLD) starting at i, or -1.
func scanDomain(s string, i int) int {
	j := i
	for j < len(s) && j-i < 254 && (isAlnumB(s[j]) || s[j] == '-' || s[j] == '.' || s[j] >= 0x80) {
		j++
	}
	for j > i && (s[j-1] == '.' || s[j-1] == '-') {
		j--
	}
	if j-i < 4 || j-i > 253 {
		return -1
	}
	labels, ls := 0, i
	for k := i; k <= j; k++ {
		if k < j && s[k] != '.' {
			continue
		}
		l := s[ls:k]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return -1
		}
		labels++
		if k == j { // TLD
			if labels < 2 || len(l) < 2 || labels == 2 && fileExtensions[strings.ToLower(l)] {
				return -1
			}
			if !strings.HasPrefix(l, "xn--") {
				for q := 0; q < len(l); q++ {
					if !isAlphaB(l[q]) && l[q] < 0x80 {
						return -1
					}
				}
			}
		}
		ls = k + 1
	}
	return j
}

// fileExtensions are not TLDs: logo@2x.png, icon@3x.webp are file names.
var fileExtensions = wordSet("png jpg jpeg gif svg webp ico bmp avif js mjs css map json html htm txt pdf xml")

// --- IP addresses ---------------------------------------------------------------

func (c *Classifier) findIPv4(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if !isDigitB(s[i]) {
			continue
		}
		j := i
		for j < len(s) && (isDigitB(s[j]) || s[j] == '.') {
			j++
		}
		// not after a letter (v1.2.3.4), nor a product token (Chrome/131.0.0.0)
		if i > 0 && (isAlnumB(s[i-1]) || s[i-1] == '.' || s[i-1] == '-' || s[i-1] == '_') ||
			i > 1 && s[i-1] == '/' && isAlnumB(s[i-2]) {
			i = j
			continue
		}
		end := j
		for end > i && s[end-1] == '.' {
			end--
		}
		if (j == len(s) || !isAlnumB(s[j]) && s[j] != '-' && s[j] != '_') && validIPv4(s[i:end]) {
			conf := 0.9
			if a, err := netip.ParseAddr(s[i:end]); err == nil && (a.IsPrivate() || a.IsLoopback() || a.IsUnspecified() || a.IsLinkLocalUnicast()) {
				conf = 0.6
			}
			out = appendFinding(out, c.ip, KindIP, i, end, conf)
		}
		i = j
	}
	return out
}

// validIPv4 checks dotted-quad syntax without allocating: four decimal
// octets 0..255 without leading zeros.
func validIPv4(s string) bool {
	parts, v, nd := 0, 0, 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || s[k] == '.' {
			if nd == 0 || v > 255 {
				return false
			}
			parts++
			v, nd = 0, 0
			continue
		}
		if nd == 1 && v == 0 { // leading zero
			return false
		}
		v = v*10 + int(s[k]-'0')
		nd++
		if nd > 3 {
			return false
		}
	}
	return parts == 4
}

func (c *Classifier) findIPv6(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if !isHexB(s[i]) && s[i] != ':' {
			continue
		}
		j, colons, dbl, digit := i, 0, false, false
		for j < len(s) && (isHexB(s[j]) || s[j] == ':' || s[j] == '.') {
			if s[j] == ':' {
				colons++
				if j > i && s[j-1] == ':' {
					dbl = true
				}
			} else if isDigitB(s[j]) {
				digit = true
			}
			j++
		}
		if i > 0 && (isAlnumB(s[i-1]) || s[i-1] == ':') || j < len(s) && isAlnumB(s[j]) {
			i = j
			continue
		}
		end := j
		for end > i && s[end-1] == '.' {
			end--
		}
		if colons >= 2 && colons <= 7 && (dbl || colons == 7 || colons == 6 && strings.IndexByte(s[i:end], '.') >= 0) && end-i >= 3 && (digit || colons >= 5) {
			if a, err := netip.ParseAddr(s[i:end]); err == nil && a.Is6() && !a.IsUnspecified() {
				conf := 0.9
				if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() {
					conf = 0.6
				}
				out = appendFinding(out, c.ip, KindIP, i, end, conf)
			}
		}
		i = j
	}
	return out
}

// --- phone numbers -------------------------------------------------------------

// phoneLeftOK reports whether a phone number may start after byte prev.
func phoneLeftOK(prev, first byte) bool {
	switch {
	case isAlnumB(prev):
		return false
	case prev == ':' || prev == '=':
		return first == '+' // tel:+1…, phone=+44…
	}
	return !strings.ContainsRune(".-+/_@%&#$\\'", rune(prev))
}

func (c *Classifier) findPhones(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch != '+' && ch != '(' && !isDigitB(ch) {
			continue
		}
		if i > 0 && !phoneLeftOK(s[i-1], ch) {
			for i+1 < len(s) && (isAlnumB(s[i+1]) || s[i+1] == '+') {
				i++
			}
			continue
		}
		if end, conf := matchPhone(s, i); end > 0 {
			out = appendFinding(out, c.phone, KindPhone, i, end, conf)
			i = end - 1
			continue
		}
		if ch == '+' { // "+0 415 555 0100" is one failed number, not a '+' and a number
			for i+1 < len(s) && strings.IndexByte("0123456789 -.()", s[i+1]) >= 0 {
				i++
			}
		}
		for i+1 < len(s) && isDigitB(s[i+1]) {
			i++
		}
	}
	return out
}

// matchPhone returns the end of a phone number starting at i, or 0.
//
// With a leading '+' (international): 8–15 digits, a non-zero country code,
// digit groups separated by single spaces, dashes, dots or a parenthesized
// group ("+44 (0)20 7946 0958"). Without '+', only formatted numbers:
// North American "(415) 555-0100", "415-555-0100", "1 415 555 0100", or a
// national number with a trunk 0 in 2+ groups ("020 7946 0958",
// "06 12 34 56 78"). Bare digit runs (timestamps, ids) never match.
func matchPhone(s string, i int) (end int, conf float64) {
	k := i
	plus := s[k] == '+'
	if plus {
		k++
	}
	var (
		groups    [12]int8 // digit-group lengths
		gstart    [12]int  // offsets of the groups
		seps      [12]byte // separator before each group: 0, ' ', '-', '.', '(' or ')'
		ng        int
		digits    int
		inParen   bool
		parens    int
		parenZero int // digits in a "(0)" group, not part of E.164
		sep       byte
		lastEnd   = -1
	)
	for k < len(s) {
		ch := s[k]
		switch {
		case isDigitB(ch):
			if ng == len(groups) {
				return 0, 0
			}
			st := k
			for k < len(s) && isDigitB(s[k]) {
				k++
			}
			if k-st > 15 {
				return 0, 0
			}
			groups[ng], gstart[ng], seps[ng] = int8(k-st), st, sep
			ng++
			digits += k - st
			if digits > 17 {
				return 0, 0
			}
			if inParen && s[st:k] == "0" {
				parenZero++
			}
			lastEnd = k
			sep = 0
			continue
		case ch == '(':
			if inParen || parens > 0 || sep == '(' || k+1 >= len(s) || !isDigitB(s[k+1]) {
				goto done
			}
			inParen = true
			parens++
			sep = '('
		case ch == ')':
			if !inParen || lastEnd != k {
				goto done
			}
			inParen = false
			sep = ')'
			lastEnd = k + 1
		case ch == ' ' || ch == '-' || ch == '.':
			if sep != 0 && sep != ')' || lastEnd < 0 || k+1 >= len(s) || !(isDigitB(s[k+1]) || s[k+1] == '(') {
				goto done
			}
			if sep == ')' && ch != ' ' && ch != '-' {
				goto done
			}
			if sep == 0 {
				sep = ch
			}
		default:
			goto done
		}
		k++
	}
done:
	if inParen || ng == 0 || lastEnd < 0 {
		return 0, 0
	}
	end = lastEnd
	if end < len(s) && (isAlnumB(s[end]) || s[end] == '@' || s[end] == '_') {
		return 0, 0
	}
	if end+1 < len(s) && (s[end] == '.' || s[end] == '-' || s[end] == '/' || s[end] == ':') && isDigitB(s[end+1]) {
		return 0, 0 // part of a longer dotted/dashed number
	}
	if plus {
		d := digits - parenZero
		if d < 8 || d > 15 || s[gstart[0]] == '0' {
			return 0, 0
		}
		if ng == 1 {
			return end, 0.85
		}
		single := 0
		for g := 1; g < ng; g++ {
			if groups[g] == 1 && !(parenZero > 0 && s[gstart[g]] == '0') {
				single++
			}
		}
		if single > 1 {
			return 0, 0
		}
		return end, 0.9
	}
	// without '+': separators between groups must agree (parentheses aside)
	var gsep byte
	for g := 1; g < ng; g++ {
		sp := seps[g]
		if sp == '(' || sp == ')' {
			continue
		}
		if gsep == 0 {
			gsep = sp
		} else if sp != gsep {
			return 0, 0
		}
	}
	if ng < 2 || ng == 3 && groups[0] == 3 && groups[1] == 2 && groups[2] == 4 { // ddd-dd-dddd is SSN-shaped
		return 0, 0
	}
	nanp := func(g0 int) bool {
		return ng-g0 == 3 && groups[g0] == 3 && groups[g0+1] == 3 && groups[g0+2] == 4 &&
			s[gstart[g0]] >= '2' && s[gstart[g0+1]] >= '2'
	}
	switch {
	case digits == 10 && nanp(0):
		if parens > 0 && (seps[0] != '(' || s[i] != '(') {
			return 0, 0
		}
		if parens == 0 && gsep == '.' && s[i] == '(' {
			return 0, 0
		}
		return end, 0.8
	case digits == 11 && groups[0] == 1 && s[gstart[0]] == '1' && nanp(1):
		return end, 0.8
	case parens == 0 && digits >= 9 && digits <= 11 && s[gstart[0]] == '0' && s[gstart[0]+1] != '0' &&
		groups[0] >= 2 && groups[0] <= 5:
		for g := 1; g < ng; g++ {
			if groups[g] < 2 {
				return 0, 0
			}
		}
		return end, 0.7
	}
	return 0, 0
}

// --- payment cards --------------------------------------------------------------

func (c *Classifier) findCards(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if !isDigitB(s[i]) {
			continue
		}
		var (
			d      [20]byte
			nd     int
			glen   [8]int
			ng     int
			cur    int
			sep    byte
			k      = i
			tooBig bool
		)
		for k < len(s) {
			ch := s[k]
			if isDigitB(ch) {
				if nd < len(d) {
					d[nd] = ch
				} else {
					tooBig = true
				}
				nd++
				cur++
				k++
				continue
			}
			if (ch == ' ' || ch == '-') && cur > 0 && k+1 < len(s) && isDigitB(s[k+1]) && (sep == 0 || sep == ch) && ng < len(glen)-1 {
				glen[ng] = cur
				ng++
				cur = 0
				sep = ch
				k++
				continue
			}
			break
		}
		glen[ng] = cur
		ng++
		leftOK := i == 0 || !isAlnumB(s[i-1]) && s[i-1] != '.' && s[i-1] != '_' && s[i-1] != '-' && s[i-1] != '+'
		rightOK := k == len(s) || !isAlnumB(s[k]) && s[k] != '_' && !(k+1 < len(s) && (s[k] == '.' || s[k] == '-') && isDigitB(s[k+1]))
		if leftOK && rightOK && !tooBig && nd >= 13 && nd <= 19 && cardGroupsOK(glen[:ng], nd) && luhn(d[:nd]) && cardIIN(d[:nd]) {
			conf := 0.95
			if ng == 1 {
				conf = 0.85
			}
			out = appendFinding(out, c.card, KindCard, i, k, conf)
		}
		i = k
	}
	return out
}

func cardGroupsOK(g []int, nd int) bool {
	switch len(g) {
	case 1:
		return true
	case 3: // Amex 4-6-5, Diners 4-6-4
		return g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4)
	case 4, 5: // 4-4-4-4, 4-4-4-4-3, 4-4-4-1 (13-digit Visa), 4-4-4-3 (15)
		for _, x := range g[:len(g)-1] {
			if x != 4 {
				return false
			}
		}
		return g[len(g)-1] >= 1 && g[len(g)-1] <= 4 && nd >= 13
	}
	return false
}

func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardIIN checks the issuer prefix and the length it allows.
func cardIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // Amex
		return n == 15
	case p4 == 6011 || p2 == 65 || p3 >= 644 && p3 <= 649: // Discover
		return n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39: // Diners
		return n >= 14 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16 && n <= 19
	case p2 == 62: // UnionPay
		return n >= 16 && n <= 19
	case p4 >= 2200 && p4 <= 2204: // Mir
		return n == 16
	case p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || p4 >= 6761 && p4 <= 6763: // Maestro
		return n >= 13 && n <= 19
	}
	return false
}

// --- IBAN --------------------------------------------------------------------

// ibanLengths is the SWIFT IBAN registry: country code → total length.
var ibanLengths = func() (t [26 * 26]uint8) {
	const reg = `AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28
EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20
LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 QA29
RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30`
	for _, f := range strings.Fields(reg) {
		n, _ := strconv.Atoi(f[2:])
		t[int(f[0]-'A')*26+int(f[1]-'A')] = uint8(n)
	}
	return t
}()

func (c *Classifier) findIBANs(s string, out []Finding) []Finding {
	for i := 0; i+15 <= len(s); i++ {
		if !isUpperB(s[i]) || !isUpperB(s[i+1]) || !isDigitB(s[i+2]) || !isDigitB(s[i+3]) || i > 0 && isAlnumB(s[i-1]) {
			continue
		}
		want := int(ibanLengths[int(s[i]-'A')*26+int(s[i+1]-'A')])
		if want == 0 {
			continue
		}
		var buf [34]byte
		n, k := 0, i
		for k < len(s) && n < want {
			ch := s[k]
			if isUpperB(ch) || isDigitB(ch) {
				buf[n] = ch
				n++
				k++
				continue
			}
			if ch == ' ' && n%4 == 0 && k+1 < len(s) && (isUpperB(s[k+1]) || isDigitB(s[k+1])) {
				k++
				continue
			}
			break
		}
		if n != want || k < len(s) && isAlnumB(s[k]) || ibanMod97(buf[:n]) != 1 {
			continue
		}
		out = appendFinding(out, c.bank, KindIBAN, i, k, 0.95)
		i = k - 1
	}
	return out
}

func ibanMod97(b []byte) int {
	r := 0
	for k := 0; k < len(b); k++ {
		ch := b[(k+4)%len(b)] // the first four characters move to the end
		if isDigitB(ch) {
			r = (r*10 + int(ch-'0')) % 97
		} else {
			r = (r*100 + int(ch-'A') + 10) % 97
		}
	}
	return r
}

// --- US SSN and UK NINO ---------------------------------------------------------

func (c *Classifier) findSSNs(s string, out []Finding) []Finding {
	for i := 0; i+11 <= len(s); i++ {
		if !isDigitB(s[i]) {
			continue
		}
		if i > 0 && (isAlnumB(s[i-1]) || s[i-1] == '-' || s[i-1] == '.') {
			continue
		}
		x := s[i : i+11]
		if x[3] != '-' || x[6] != '-' {
			continue
		}
		ok := true
		for _, p := range [...]int{0, 1, 2, 4, 5, 7, 8, 9, 10} {
			if !isDigitB(x[p]) {
				ok = false
				break
			}
		}
		if !ok || i+11 < len(s) && (isAlnumB(s[i+11]) || s[i+11] == '-') {
			continue
		}
		area, group, serial := x[0:3], x[4:6], x[7:11]
		if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" ||
			x == "078-05-1120" || x == "219-09-9999" { // SSA: never issued, or publicised and voided
			continue
		}
		out = appendFinding(out, c.natID, KindSSN, i, i+11, 0.85)
		i += 10
	}
	return out
}

func (c *Classifier) findNINOs(s string, out []Finding) []Finding {
	for i := 0; i+9 <= len(s); i++ {
		a, b := s[i], s[i+1]
		if !isUpperB(a) || !isUpperB(b) || i > 0 && isAlnumB(s[i-1]) {
			continue
		}
		k := i + 2
		spaced := k < len(s) && s[k] == ' '
		ok := true
		for p := 0; p < 3 && ok; p++ {
			if spaced {
				if k >= len(s) || s[k] != ' ' {
					ok = false
					break
				}
				k++
			}
			if k+2 > len(s) || !isDigitB(s[k]) || !isDigitB(s[k+1]) {
				ok = false
				break
			}
			k += 2
		}
		if !ok {
			continue
		}
		if spaced && k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || s[k] < 'A' || s[k] > 'D' || k+1 < len(s) && isAlnumB(s[k+1]) {
			continue
		}
		k++
		if strings.IndexByte("DFIQUV", a) >= 0 || strings.IndexByte("DFIOQUV", b) >= 0 {
			continue
		}
		switch s[i : i+2] {
		case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
			continue
		}
		out = appendFinding(out, c.natID, KindNINO, i, k, 0.7)
		i = k - 1
	}
	return out
}

// --- credentials --------------------------------------------------------------

func isB64URL(c byte) bool { return isAlnumB(c) || c == '-' || c == '_' }

func (c *Classifier) findJWTs(s string, out []Finding) []Finding {
	for off := 0; off < len(s); {
		j := strings.Index(s[off:], "eyJ")
		if j < 0 {
			break
		}
		i := off + j
		k, dots, d1, d2 := i, 0, 0, 0
		for k < len(s) && (isB64URL(s[k]) || s[k] == '.') {
			if s[k] == '.' {
				dots++
				if dots == 1 {
					d1 = k
				} else if dots == 2 {
					d2 = k
				}
			}
			k++
		}
		off = k
		if dots == 3 && s[k-1] == '.' { // sentence full stop after an unsigned token
			k--
			dots--
		}
		if i > 0 && isB64URL(s[i-1]) || dots != 2 || d1-i < 10 || d2-d1 < 3 {
			continue
		}
		if jwtHeaderOK(s[i:d1]) && jwtPartOK(s[d1+1:d2]) && jwtPartOK(s[d2+1:k]) {
			out = appendFinding(out, c.creds, KindJWT, i, k, 0.99)
		}
	}
	return out
}

// jwtPartOK checks the length of a base64url segment (its characters were
// checked by the caller): no unpadded base64 has a length of 4n+1.
func jwtPartOK(p string) bool { return len(p)%4 != 1 }

func jwtHeaderOK(h string) bool {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return false
	}
	var hdr struct {
		Alg any `json:"alg"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return false
	}
	alg, ok := hdr.Alg.(string)
	return ok && alg != "" && len(b) > 0 && b[0] == '{'
}

type keyShape struct {
	prefix     string
	min, max   int   // length of the part after the prefix
	set        uint8 // keySet*
	mixed      bool  // needs both digits and letters after the prefix
	confidence float64
}

const (
	keySetAlnum      = iota // A-Za-z0-9
	keySetAlnumDash         // A-Za-z0-9 _ -
	keySetUpperDigit        // A-Z0-9
	keySetAlnumUnder        // A-Za-z0-9 _
)

// keyShapes are well-known credential prefixes.
var keyShapes = []keyShape{
	{"sk_live_", 16, 256, keySetAlnum, false, 0.97}, // Stripe secret
	{"sk_test_", 16, 256, keySetAlnum, false, 0.95},
	{"rk_live_", 16, 256, keySetAlnum, false, 0.97}, // Stripe restricted
	{"rk_test_", 16, 256, keySetAlnum, false, 0.95},
	{"whsec_", 24, 256, keySetAlnum, false, 0.95},      // Stripe webhook secret
	{"sk-ant-", 20, 256, keySetAlnumDash, false, 0.97}, // Anthropic
	{"sk-proj-", 20, 256, keySetAlnumDash, false, 0.97},
	{"sk-", 20, 256, keySetAlnumDash, true, 0.85},   // OpenAI and similar
	{"AKIA", 16, 16, keySetUpperDigit, false, 0.95}, // AWS access key id
	{"ASIA", 16, 16, keySetUpperDigit, false, 0.9},
	{"ghp_", 30, 255, keySetAlnum, false, 0.97}, // GitHub
	{"gho_", 30, 255, keySetAlnum, false, 0.97},
	{"ghu_", 30, 255, keySetAlnum, false, 0.97},
	{"ghs_", 30, 255, keySetAlnum, false, 0.97},
	{"ghr_", 30, 255, keySetAlnum, false, 0.97},
	{"github_pat_", 22, 255, keySetAlnumUnder, false, 0.97},
	{"glpat-", 20, 64, keySetAlnumDash, false, 0.95}, // GitLab
	{"xoxb-", 10, 255, keySetAlnumDash, false, 0.95}, // Slack
	{"xoxa-", 10, 255, keySetAlnumDash, false, 0.95},
	{"xoxp-", 10, 255, keySetAlnumDash, false, 0.95},
	{"xoxr-", 10, 255, keySetAlnumDash, false, 0.95},
	{"xoxs-", 10, 255, keySetAlnumDash, false, 0.95},
	{"xoxe-", 10, 255, keySetAlnumDash, false, 0.95},
	{"AIza", 35, 35, keySetAlnumDash, false, 0.95}, // Google API key
	{"npm_", 36, 36, keySetAlnum, false, 0.95},
	{"hf_", 30, 64, keySetAlnum, false, 0.9}, // Hugging Face
}

var keyFirst = func() (t [256]bool) {
	for _, k := range keyShapes {
		t[k.prefix[0]] = true
	}
	t['B'], t['b'] = true, true // Bearer, Basic
	return t
}()

func inKeySet(set uint8, ch byte) bool {
	switch set {
	case keySetAlnum:
		return isAlnumB(ch)
	case keySetAlnumDash:
		return isAlnumB(ch) || ch == '-' || ch == '_'
	case keySetUpperDigit:
		return isUpperB(ch) || isDigitB(ch)
	default:
		return isAlnumB(ch) || ch == '_'
	}
}

func isTokenChar(ch byte) bool {
	return isAlnumB(ch) || strings.IndexByte("-._~+/=", ch) >= 0
}

func (c *Classifier) findKeys(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if !keyFirst[s[i]] || i > 0 && (isAlnumB(s[i-1]) || s[i-1] == '_' || s[i-1] == '-') {
			continue
		}
		if s[i] == 'B' || s[i] == 'b' {
			if end, start, kind := authScheme(s, i); end > 0 {
				out = appendFinding(out, c.creds, kind, start, end, 0.9)
				i = end - 1
				continue
			}
		}
		for _, ks := range keyShapes {
			if !strings.HasPrefix(s[i:], ks.prefix) {
				continue
			}
			k, digit, letter := i+len(ks.prefix), false, false
			for k < len(s) && k-i-len(ks.prefix) <= ks.max && inKeySet(ks.set, s[k]) {
				digit = digit || isDigitB(s[k])
				letter = letter || isAlphaB(s[k])
				k++
			}
			n := k - i - len(ks.prefix)
			if n < ks.min || n > ks.max || k < len(s) && isAlnumB(s[k]) || ks.mixed && !(digit && letter) {
				continue
			}
			out = appendFinding(out, c.creds, KindAPIKey, i, k, ks.confidence)
			i = k - 1
			break
		}
	}
	return out
}

// authScheme matches "Bearer <token>" (16+ token characters) and
// "Basic <base64 of user:password>", returning the token's span.
func authScheme(s string, i int) (end, start int, kind string) {
	switch {
	case len(s)-i > 7 && strings.EqualFold(s[i:i+7], "bearer "):
		k := i + 7
		for k < len(s) && isTokenChar(s[k]) {
			k++
		}
		if k-(i+7) >= 16 {
			return k, i + 7, KindBearerToken
		}
	case len(s)-i > 6 && strings.EqualFold(s[i:i+6], "basic "):
		k := i + 6
		for k < len(s) && (isAlnumB(s[k]) || s[k] == '+' || s[k] == '/' || s[k] == '=') {
			k++
		}
		if k-(i+6) >= 8 && k-(i+6) <= 512 {
			if b, err := base64.StdEncoding.DecodeString(s[i+6 : k]); err == nil && strings.IndexByte(string(b), ':') > 0 {
				return k, i + 6, KindBasicAuth
			}
		}
	}
	return 0, 0, ""
}

// --- street addresses --------------------------------------------------------

var streetSuffixEN = wordSet(`Street St Avenue Ave Road Rd Lane Ln Boulevard Blvd Drive Dr Court Ct Place Pl Terrace
Crescent Highway Hwy Parkway Pkwy Way Close Square Sq Circle Cir Trail Alley Mews Row`)

var streetWordFR = wordSet(`rue avenue boulevard bd place chemin allée impasse quai cours Rue Avenue Boulevard Place Chemin
Allée Impasse Quai`)

// streetSuffixDE are endings of street words written before the number:
// Hauptstraße 5, Kalverstraat 92, Kiefernweg 3.
var streetSuffixDE = []string{"straße", "strasse", "str.", "straat", "gasse", "weg", "platz", "allee", "laan", "gracht"}

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func isWordByte(c byte) bool { return isAlphaB(c) || c >= 0x80 || c == '\'' || c == '-' }

// findStreets recognises "221B Baker Street", "1600 Pennsylvania Avenue",
// "12 rue de Rivoli" and "Hauptstraße 5". Street words must be capitalized
// (English) or be a known street word; anything else is left alone.
func (c *Classifier) findStreets(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if !isDigitB(s[i]) || i > 0 && (isAlnumB(s[i-1]) || s[i-1] == '.' || s[i-1] == '-') {
			continue
		}
		k := i
		for k < len(s) && isDigitB(s[k]) {
			k++
		}
		if k-i > 5 {
			i = k
			continue
		}
		numEnd := k
		if k < len(s) && isAlphaB(s[k]) && (k+1 == len(s) || !isAlnumB(s[k+1])) {
			numEnd = k + 1 // 221B
		}
		// German/Dutch: the street word comes before the number
		if i > 1 && s[i-1] == ' ' && (numEnd == len(s) || !isAlnumB(s[numEnd])) && k-i <= 4 {
			if st := streetBefore(s, i-1); st >= 0 {
				out = appendFinding(out, c.street, KindStreetAddress, st, numEnd, 0.6)
				i = numEnd - 1
				continue
			}
		}
		if end := streetAfter(s, numEnd); end > 0 {
			out = appendFinding(out, c.street, KindStreetAddress, i, end, 0.6)
			i = end - 1
		}
	}
	return out
}

// streetAfter matches the English or French street that follows a house
// number ending at k, returning its end or 0.
func streetAfter(s string, k int) int {
	if k < len(s) && s[k] == ',' {
		k++
	}
	if k >= len(s) || s[k] != ' ' {
		return 0
	}
	k++
	words := 0
	for words < 5 && k < len(s) {
		ws := k
		for k < len(s) && (isWordByte(s[k]) || isDigitB(s[k]) && k == ws) {
			if isDigitB(s[k]) { // ordinal: 5th, 42nd
				for k < len(s) && isDigitB(s[k]) {
					k++
				}
				if k+2 > len(s) {
					return 0
				}
				switch s[k : k+2] {
				case "st", "nd", "rd", "th":
				default:
					return 0
				}
				k += 2
				break
			}
			k++
		}
		w := s[ws:k]
		if w == "" {
			return 0
		}
		if words == 0 && streetWordFR[w] {
			// French: "12 rue de Rivoli"; the name runs to the next comma or digit
			end := 0
			for n := 0; n < 6 && k < len(s) && s[k] == ' '; n++ {
				k++
				ws := k
				for k < len(s) && isWordByte(s[k]) {
					k++
				}
				if k == ws {
					break
				}
				end = k
			}
			return end
		}
		if words >= 1 && streetSuffixEN[w] && (k == len(s) || !isAlnumB(s[k])) {
			return k
		}
		if !(isUpperB(w[0]) || isDigitB(w[0])) {
			return 0
		}
		words++
		if k >= len(s) || s[k] != ' ' {
			return 0
		}
		k++
	}
	return 0
}

// streetBefore matches a street word ending at s[sp] == ' ' (before a house
// number), returning its start or -1.
func streetBefore(s string, sp int) int {
	ws := sp
	for ws > 0 && (isWordByte(s[ws-1]) || s[ws-1] == '.') {
		ws--
	}
	w := s[ws:sp]
	if len(w) < 3 || !isUpperB(w[0]) && w[0] < 0x80 {
		return -1
	}
	for _, suf := range streetSuffixDE {
		if len(w) < len(suf) || !strings.EqualFold(w[len(w)-len(suf):], suf) {
			continue
		}
		if len(w) == len(suf) { // "Berliner Straße 12": take the word before
			if ws < 2 || s[ws-1] != ' ' {
				return -1
			}
			ps := ws - 1
			for ps > 0 && isWordByte(s[ps-1]) {
				ps--
			}
			if ps == ws-1 || !isUpperB(s[ps]) {
				return -1
			}
			return ps
		}
		return ws
	}
	return -1
}

// --- coordinates and hashes --------------------------------------------------------

// parseDegree parses [-]d{1,3}.d{4,} at i, returning the end and the value.
func parseDegree(s string, i int) (int, float64, bool) {
	k := i
	if k < len(s) && s[k] == '-' {
		k++
	}
	d := k
	for k < len(s) && isDigitB(s[k]) {
		k++
	}
	if k == d || k-d > 3 || k >= len(s) || s[k] != '.' {
		return 0, 0, false
	}
	k++
	f := k
	for k < len(s) && isDigitB(s[k]) {
		k++
	}
	if k-f < 4 || k-f > 15 {
		return 0, 0, false
	}
	v, err := strconv.ParseFloat(s[i:k], 64)
	return k, v, err == nil
}

func (c *Classifier) findCoordinates(s string, out []Finding) []Finding {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' && !isDigitB(s[i]) || i > 0 && (isAlnumB(s[i-1]) || s[i-1] == '.' || s[i-1] == '-' || s[i-1] == ',') {
			continue
		}
		k, lat, ok := parseDegree(s, i)
		if !ok {
			continue
		}
		j := k
		if j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) || s[j] != ',' {
			i = k - 1
			continue
		}
		j++
		if j < len(s) && s[j] == ' ' {
			j++
		}
		end, lng, ok := parseDegree(s, j)
		if !ok || end < len(s) && (isAlnumB(s[end]) || s[end] == '.') {
			i = k - 1
			continue
		}
		if lat < -90 || lat > 90 || lng < -180 || lng > 180 || lat > -0.01 && lat < 0.01 && lng > -0.01 && lng < 0.01 {
			i = k - 1
			continue
		}
		out = appendFinding(out, c.precise, KindCoordinates, i, end, 0.7)
		i = end - 1
	}
	return out
}

// findHashes reports 64-hex-digit runs (SHA-256) with Category "": a hash
// of an e-mail is still personal data, but so many ids are hashes that
// callers decide from the field name.
func findHashes(s string, out []Finding) []Finding {
	for i := 0; i+64 <= len(s); i++ {
		if !isHexB(s[i]) {
			continue
		}
		k, digit, letter := i, false, false
		for k < len(s) && isHexB(s[k]) {
			digit = digit || isDigitB(s[k])
			letter = letter || !isDigitB(s[k])
			k++
		}
		if k-i == 64 && digit && letter && (i == 0 || !isAlnumB(s[i-1])) && (k == len(s) || !isAlnumB(s[k])) {
			out = appendFinding(out, "", KindHash, i, k, 0.3)
		}
		i = k
	}
	return out
}

// ---------------------------------------------------------------------------
// JSON

// maxJSONDepth matches encoding/json, so that ScanJSON accepts exactly what
// json.Valid accepts.
const maxJSONDepth = 10000

// ScanJSON walks a JSON document without building it in memory and calls fn
// for every finding in field names and string values, with the dotted path
// of the value: "batch[].traits.email", "[].properties.$email" (array
// elements are "[]"; keys are used as written, so a key containing a dot
// is ambiguous in the path). A field-name finding is reported only when the
// field holds something: not null, "", {} or []. Numbers and booleans are
// classified by field name only. Invalid JSON returns an error (findings
// before the error may already have been reported).
func (c *Classifier) ScanJSON(b []byte, fn func(path string, f Finding)) error {
	p := jsonScanner{c: c, b: b, fn: fn}
	return p.run()
}

type jsonFrame struct {
	obj       bool
	pathLen   int
	container string // key of the object or array, for key context
}

type jsonScanner struct {
	c       *Classifier
	b       []byte
	pos     int
	fn      func(string, Finding)
	path    []byte
	stack   []jsonFrame
	scratch []byte // unescaped strings
	keybuf  []byte // key cache lookups
	found   []Finding

	pathStr   string
	pathValid bool
	paths     map[string]string // interned paths: events repeat the same ones

	key    string // current key
	keyRes keyResult
	keyLen int
}

type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string {
	return fmt.Sprintf("taxonomy: invalid JSON at offset %d: %s", e.off, e.msg)
}

func (p *jsonScanner) fail(msg string) error {
	if p.pos >= len(p.b) {
		return &jsonError{len(p.b), "unexpected end of input"}
	}
	return &jsonError{p.pos, msg}
}

var jsonSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (p *jsonScanner) skipWS() {
	for p.pos < len(p.b) && jsonSpace[p.b[p.pos]] {
		p.pos++
	}
}

func (p *jsonScanner) emit(f Finding) {
	if p.fn == nil {
		return
	}
	if !p.pathValid {
		var ok bool
		if p.pathStr, ok = p.paths[b2s(p.path)]; !ok {
			p.pathStr = string(p.path)
			if p.paths == nil {
				p.paths = make(map[string]string)
			}
			if len(p.paths) < 1024 {
				p.paths[p.pathStr] = p.pathStr
			}
		}
		p.pathValid = true
	}
	p.fn(p.pathStr, f)
}

// emitKey reports the pending field-name finding, if any.
func (p *jsonScanner) emitKey() {
	if p.keyRes.ok {
		p.emit(Finding{Category: p.keyRes.cat, Kind: KindFieldName, Start: 0, End: p.keyLen, Confidence: p.keyRes.conf})
		p.keyRes.ok = false
	}
}

func (p *jsonScanner) run() error {
	p.skipWS()
	for {
		more, err := p.value()
		if err != nil {
			return err
		}
		if more {
			continue
		}
		// after a value: close containers until one has a next element
		for {
			p.skipWS()
			if len(p.stack) == 0 {
				if p.pos != len(p.b) {
					return p.fail("data after the top-level value")
				}
				return nil
			}
			if p.pos >= len(p.b) {
				return p.fail("")
			}
			top := &p.stack[len(p.stack)-1]
			ch := p.b[p.pos]
			if ch == ',' {
				p.pos++
				if top.obj {
					if err := p.parseKey(top); err != nil {
						return err
					}
				}
				break
			}
			if top.obj && ch == '}' || !top.obj && ch == ']' {
				p.pos++
				p.path = p.path[:top.pathLen]
				p.pathValid = false
				p.stack = p.stack[:len(p.stack)-1]
				continue
			}
			return p.fail("expected ',' or the end of the object or array")
		}
	}
}

// container is the key giving context to a new object or array.
func (p *jsonScanner) container() string {
	if len(p.stack) == 0 {
		return ""
	}
	if top := p.stack[len(p.stack)-1]; !top.obj {
		return top.container
	}
	return p.key
}

// value parses the value at p.pos. For a non-empty object or array it
// pushes a frame, positions p.pos at the first element (after the first
// key for objects) and returns more=true.
func (p *jsonScanner) value() (more bool, err error) {
	p.skipWS()
	if p.pos >= len(p.b) {
		return false, p.fail("")
	}
	switch ch := p.b[p.pos]; ch {
	case '{', '[':
		if len(p.stack) >= maxJSONDepth {
			return false, p.fail("exceeded max depth")
		}
		p.pos++
		p.skipWS()
		if p.pos < len(p.b) && p.b[p.pos] == ch+2 { // '{'+2 == '}', '['+2 == ']': empty
			p.pos++
			p.keyRes.ok = false
			return false, nil
		}
		p.emitKey()
		p.stack = append(p.stack, jsonFrame{obj: ch == '{', pathLen: len(p.path), container: p.container()})
		if ch == '[' {
			p.path = append(p.path, "[]"...)
			p.pathValid = false
			return true, nil
		}
		return true, p.parseKey(&p.stack[len(p.stack)-1])
	case '"':
		start, end, escaped, err := p.scanString()
		if err != nil {
			return false, err
		}
		if end == start {
			p.keyRes.ok = false
			return false, nil
		}
		p.emitKey()
		var s string
		if escaped {
			p.scratch = unescapeJSON(p.scratch[:0], p.b[start:end])
			s = b2s(p.scratch)
		} else {
			s = b2s(p.b[start:end])
		}
		p.found = p.c.scanValue(s, p.found[:0])
		for _, f := range p.found {
			p.emit(f)
		}
		return false, nil
	case 't':
		return false, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		p.keyRes.ok = false
		return false, p.literal("null")
	default:
		if err := p.number(); err != nil {
			return false, err
		}
		p.emitKey()
		return false, nil
	}
}

func (p *jsonScanner) literal(lit string) error {
	if len(p.b)-p.pos < len(lit) || string(p.b[p.pos:p.pos+len(lit)]) != lit {
		return p.fail("invalid literal")
	}
	p.pos += len(lit)
	p.emitKey()
	return nil
}

func (p *jsonScanner) number() error {
	b, i := p.b, p.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigitB(b[i]) {
			i++
		}
	default:
		p.pos = i
		return p.fail("invalid character looking for a value")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && isDigitB(b[i]) {
			i++
		}
		if i == d {
			p.pos = i
			return p.fail("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && isDigitB(b[i]) {
			i++
		}
		if i == d {
			p.pos = i
			return p.fail("invalid number")
		}
	}
	p.pos = i
	return nil
}

// parseKey parses `"key" :` for the object frame f, updates the path and
// classifies the key.
func (p *jsonScanner) parseKey(f *jsonFrame) error {
	p.skipWS()
	if p.pos >= len(p.b) || p.b[p.pos] != '"' {
		return p.fail("expected a string key")
	}
	start, end, escaped, err := p.scanString()
	if err != nil {
		return err
	}
	if escaped {
		p.key = string(unescapeJSON(nil, p.b[start:end]))
	} else {
		p.key = b2s(p.b[start:end])
	}
	p.skipWS()
	if p.pos >= len(p.b) || p.b[p.pos] != ':' {
		return p.fail("expected ':' after object key")
	}
	p.pos++
	p.path = p.path[:f.pathLen]
	if len(p.path) > 0 {
		p.path = append(p.path, '.')
	}
	p.path = append(p.path, p.key...)
	p.pathValid = false
	p.keybuf, p.keyRes = p.c.cachedKey(p.keybuf, f.container, p.key)
	p.keyLen = len(p.key)
	return nil
}

// strPlain marks bytes that need no attention inside a JSON string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString validates the string starting at p.pos (an opening quote) and
// returns the offsets of its raw contents.
func (p *jsonScanner) scanString() (start, end int, escaped bool, err error) {
	b := p.b
	i := p.pos + 1
	start = i
	for {
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			p.pos = i
			return 0, 0, false, p.fail("")
		}
		switch b[i] {
		case '"':
			p.pos = i + 1
			return start, i, escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				p.pos = len(b)
				return 0, 0, false, p.fail("")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 {
					p.pos = len(b)
					return 0, 0, false, p.fail("")
				}
				for k := i + 2; k < i+6; k++ {
					if !isHexB(b[k]) {
						p.pos = k
						return 0, 0, false, p.fail("invalid \\u escape")
					}
				}
				i += 6
			default:
				p.pos = i + 1
				return 0, 0, false, p.fail("invalid escape")
			}
		default:
			p.pos = i
			return 0, 0, false, p.fail("control character in string")
		}
	}
}

// unescapeJSON appends the decoded form of a validated JSON string body.
// Invalid surrogates become U+FFFD, as in encoding/json.
func unescapeJSON(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		ch := s[i]
		if ch != '\\' {
			dst = append(dst, ch)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:i+6])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(h []byte) rune {
	var r rune
	for _, ch := range h {
		r <<= 4
		switch {
		case isDigitB(ch):
			r |= rune(ch - '0')
		case 'a' <= ch && ch <= 'f':
			r |= rune(ch-'a') + 10
		default:
			r |= rune(ch-'A') + 10
		}
	}
	return r
}
