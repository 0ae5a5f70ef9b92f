package taxonomy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFieldName(t *testing.T) {
	c := DefaultClassifier()
	tests := []struct{ name, want string }{
		// e-mail in every spelling
		{"$email", "user.contact.email"},
		{"email", "user.contact.email"},
		{"Email", "user.contact.email"},
		{"EMAIL", "user.contact.email"},
		{"user_email", "user.contact.email"},
		{"emailAddress", "user.contact.email"},
		{"email_address", "user.contact.email"},
		{"e-mail", "user.contact.email"},
		{"E-Mail", "user.contact.email"},
		{"billingEmail", "user.contact.email"},
		{"emails", "user.contact.email"},
		{"sha256_email_address", "user.contact.email"},
		{"user_data.sha256_email_address", "user.contact.email"},
		{"email_hash", "user.contact.email"},
		{"traits.email", "user.contact.email"},
		// names
		{"$name", "user.name"},
		{"name", "user.name"},
		{"$first_name", "user.name.first"},
		{"firstName", "user.name.first"},
		{"$last_name", "user.name.last"},
		{"surname", "user.name.last"},
		{"customer_name", "user.name"},
		{"display_name", "user.name"},
		// phone
		{"$phone", "user.contact.phone_number"},
		{"phoneNumber", "user.contact.phone_number"},
		{"mobile", "user.contact.phone_number"},
		{"phone_numbers", "user.contact.phone_number"},
		// location
		{"mp_country_code", "user.location.imprecise"},
		{"$region", "user.location.imprecise"},
		{"$city", "user.location.imprecise"},
		{"country", "user.location.imprecise"},
		{"city", "user.location.imprecise"},
		{"billing_city", "user.contact.address.city"},
		{"shippingCountry", "user.contact.address.country"},
		{"traits.address.city", "user.contact.address.city"},
		{"context.location.city", "user.location.imprecise"},
		{"postalCode", "user.contact.address.postal_code"},
		{"lat", "user.location.precise"},
		{"lng", "user.location.precise"},
		{"latitude", "user.location.precise"},
		{"location_lat", "user.location.precise"},
		// device, behaviour
		{"$browser", "user.device.user_agent"},
		{"$os", "user.device.user_agent"},
		{"$device", "user.device.user_agent"},
		{"os_name", "user.device.user_agent"},
		{"device_model", "user.device.user_agent"},
		{"userAgent", "user.device.user_agent"},
		{"$screen_width", "user.device.user_agent"},
		{"context.os.name", "user.device.user_agent"},
		{"$referrer", "user.behavior.referrer"},
		{"$referring_domain", "user.behavior.referrer"},
		{"$initial_referrer", "user.behavior.referrer"},
		{"utm_source", "user.behavior.referrer"},
		{"utm_campaign", "user.behavior.referrer"},
		{"$current_url", "user.behavior.browsing_history"},
		{"page_location", "user.behavior.browsing_history"},
		{"url", "user.behavior.browsing_history"},
		{"context.page.url", "user.behavior.browsing_history"},
		// ids
		{"distinct_id", "user.unique_id"},
		{"$user_id", "user.unique_id"},
		{"user_id", "user.unique_id"},
		{"userId", "user.unique_id"},
		{"uid", "user.unique_id"},
		{"$device_id", "user.device.device_id"},
		{"device_id", "user.device.device_id"},
		{"anonymousId", "user.device.device_id"},
		{"client_id", "user.device.device_id"},
		{"anonymous_id_hash", "user.unique_id.pseudonymous"},
		{"ip", "user.device.ip_address"},
		{"$ip", "user.device.ip_address"},
		{"ip_address", "user.device.ip_address"},
		{"IPAddress", "user.device.ip_address"},
		{"ip_override", "user.device.ip_address"},
		{"x-forwarded-for", "user.device.ip_address"},
		{"context.ip", "user.device.ip_address"},
		{"gclid", "user.device.advertising_id"},
		{"fbclid", "user.device.advertising_id"},
		{"msclkid", "user.device.advertising_id"},
		{"ttclid", "user.device.advertising_id"},
		{"idfa", "user.device.advertising_id"},
		{"adid", "user.device.advertising_id"},
		// credentials
		{"password", "user.authorization.credentials"},
		{"api_key", "user.authorization.credentials"},
		{"apiKey", "user.authorization.credentials"},
		{"token", "user.authorization.credentials"},
		{"secret", "user.authorization.credentials"},
		{"authorization", "user.authorization.credentials"},
		{"stripe_secret_key", "user.authorization.credentials"},
		{"csrf_token", "user.authorization.credentials"},
		// organization, account, other
		{"org_id", "user.contact.organization"},
		{"company", "user.contact.organization"},
		{"organization", "user.contact.organization"},
		{"company.name", "user.contact.organization"},
		{"plan", "user.account.settings"},
		{"plan_name", "user.account.settings"},
		{"$plan_name", "user.account.settings"},
		{"ssn", "user.government_id.national_identification_number"},
		{"iban", "user.financial.bank_account"},
		{"card_number", "user.financial.credit_card"},
		{"date_of_birth", "user.demographic.date_of_birth"},
		{"birthday", "user.demographic.date_of_birth"},
		// neutral or unknown
		{"event", ""},
		{"time", ""},
		{"$insert_id", ""},
		{"insert_id", ""},
		{"mp_lib", ""},
		{"$lib_version", ""},
		{"app_version", ""},
		{"count", ""},
		{"duration_ms", ""},
		{"messageId", ""},
		{"event_name", ""},
		{"product_name", ""},
		{"events.name", ""},
		{"context.library.name", ""},
		{"items.title", ""},
		{"email_verified", ""},
		{"prompt_tokens", ""},
		{"next_page_token", ""},
		{"logins", ""},
		{"voice_mail", ""},
		{"quantity", ""},
		{"currency", ""},
		{"", ""},
		{"$", ""},
		{"___", ""},
	}
	for _, tt := range tests {
		f, ok := c.FieldName(tt.name)
		if ok != (tt.want != "") || f.Category != tt.want {
			t.Errorf("FieldName(%q) = %q, %v; want %q", tt.name, f.Category, ok, tt.want)
			continue
		}
		if ok && (f.Kind != KindFieldName || f.Start != 0 || f.End != len(tt.name) || f.Confidence <= 0 || f.Confidence > 1) {
			t.Errorf("FieldName(%q) = %+v: want kind %s, span 0..%d, confidence in (0,1]", tt.name, f, KindFieldName, len(tt.name))
		}
	}
}

// Every field name listed in the embedded taxonomy classifies as its own
// category, apart from the names the classifier deliberately reads
// differently (see overrideNames).
func TestFieldNameCoversTaxonomyFields(t *testing.T) {
	c := DefaultClassifier()
	exceptions := map[string]string{
		"city":        "user.location.imprecise", // bare city is geo-IP in analytics; billing_city is postal
		"country":     "user.location.imprecise",
		"anonymousId": "user.device.device_id", // anonymousId and anonymous_id normalize alike
	}
	for _, cat := range Default().All() {
		for _, name := range cat.Fields {
			want := cat.Key
			if cat.Sensitivity == 0 {
				want = ""
			}
			if w, ok := exceptions[name]; ok {
				want = w
			}
			f, _ := c.FieldName(name)
			if f.Category != want {
				t.Errorf("taxonomy field %q of %s: FieldName = %q, want %q", name, cat.Key, f.Category, want)
			}
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"$email": "email", "emailAddress": "email_address", "IPAddress": "ip_address", "userID": "user_id",
		"sha256EmailAddress": "sha256_email_address", "x-forwarded-for": "x_forwarded_for",
		"HTTP_X_FORWARDED_FOR": "http_x_forwarded_for", "context.page.url": "context_page_url",
		"address_line1": "address_line1", "  ": "", "Straße": "straße",
	} {
		if got := normalizeName(in); got != want {
			t.Errorf("normalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// jwt builds a token from a header and payload JSON.
func jwt(header, payload string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(header)) + "." + e([]byte(payload)) + "." + e([]byte("signature-bytes-0123456789"))
}

var valueCategory = map[string]string{
	KindEmail: "user.contact.email", KindPhone: "user.contact.phone_number", KindIP: "user.device.ip_address",
	KindCard: "user.financial.credit_card", KindIBAN: "user.financial.bank_account",
	KindJWT: "user.authorization.credentials", KindAPIKey: "user.authorization.credentials",
	KindBearerToken: "user.authorization.credentials", KindBasicAuth: "user.authorization.credentials",
	KindSSN: "user.government_id.national_identification_number", KindNINO: "user.government_id.national_identification_number",
	KindStreetAddress: "user.contact.address.street", KindCoordinates: "user.location.precise", KindHash: "",
}

func TestValue(t *testing.T) {
	validJWT := jwt(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"1234567890","name":"Ada"}`)
	sha := "a0f1490a20d0211c997b44bc357e1972deab8ae3f1a2b0b0e46b8f6bfa6ffd57"
	// want lists "kind=matched text"; the text is compared with the span.
	tests := []struct {
		in   string
		want []string
	}{
		// e-mail
		{"ada@example.com", []string{"email=ada@example.com"}},
		{"Contact Ada Lovelace <ada@example.com> today", []string{"email=ada@example.com"}},
		{"Peter.Gibbons@Initech.example.com", []string{"email=Peter.Gibbons@Initech.example.com"}},
		{"first.last+tag@sub.example.co.uk", []string{"email=first.last+tag@sub.example.co.uk"}},
		{"mailto:ada@example.com", []string{"email=ada@example.com"}},
		{"https://app.example.com/?invite=ada%40example.com&tab=2", []string{"email=ada%40example.com"}},
		{"https://app.example.com/?email=ada@example.com", []string{"email=ada@example.com"}},
		{"two: a@example.com, b@example.org.", []string{"email=a@example.com", "email=b@example.org"}},
		{"user@localhost", nil},
		{"@ada_lovelace", nil},
		{"react@18.2.0", nil},
		{"https://abc123@o4504.ingest.sentry.io/42", nil},
		{"https://user:pa55@example.com/", nil},
		{"ada@@example.com", nil},
		{"a..b@example.com", nil},
		{"name@example.c", nil},
		{"https://cdn.example.com/logo@2x.png", nil},
		// phone numbers
		{"+14155550100", []string{"phone=+14155550100"}},
		{"+1 415 555 0100", []string{"phone=+1 415 555 0100"}},
		{"(415) 555-0100", []string{"phone=(415) 555-0100"}},
		{"415-555-0100", []string{"phone=415-555-0100"}},
		{"415.555.0100", []string{"phone=415.555.0100"}},
		{"1 415 555 0100", []string{"phone=1 415 555 0100"}},
		{"+44 20 7946 0958", []string{"phone=+44 20 7946 0958"}},
		{"+44 (0)20 7946 0958", []string{"phone=+44 (0)20 7946 0958"}},
		{"020 7946 0958", []string{"phone=020 7946 0958"}},
		{"06 12 34 56 78", []string{"phone=06 12 34 56 78"}},
		{"+33 6 12 34 56 78", []string{"phone=+33 6 12 34 56 78"}},
		{"+49-30-1234567", []string{"phone=+49-30-1234567"}},
		{"call me at +1-415-555-0100.", []string{"phone=+1-415-555-0100"}},
		{"tel:+14155550100", []string{"phone=+14155550100"}},
		{"1732540000000", nil}, // ms timestamp
		{"4155550100", nil},    // unformatted digits
		{"2.55.1", nil},        // version
		{"2024-01-02", nil},    // ISO date
		{"02.01.2024", nil},    // European date
		{"2024-01-02T03:04:05+00:00", nil},
		{"5d958f87-542d-4e37-9e0b-6c7b1f1d5a01", nil}, // UUID
		{"+123", nil},
		{"+1234567890123456", nil}, // 16 digits
		{"+0 415 555 0100", nil},   // no country code 0
		{"Order 12345678 shipped", nil},
		{"1,234,567,890", nil},
		{"3.14159265358979", nil},
		{"10:30:00", nil},
		{"123-456-7890", nil}, // a North American area code cannot start with 1
		{"+1 (415) 555-0100", []string{"phone=+1 (415) 555-0100"}},
		{"078-05-1120", nil}, // SSN-shaped, not a national phone number
		// IP addresses
		{"127.0.0.1", []string{"ip=127.0.0.1"}},
		{"203.0.113.7", []string{"ip=203.0.113.7"}},
		{"from 203.0.113.7, via proxy", []string{"ip=203.0.113.7"}},
		{"203.0.113.7:8080", []string{"ip=203.0.113.7"}},
		{"http://198.51.100.23/login", []string{"ip=198.51.100.23"}},
		{"999.1.1.1", nil},
		{"1.2.3", nil},
		{"01.2.3.4", nil},
		{"Chrome/131.0.0.0 Safari/537.36", nil},
		{"v1.2.3.4", nil},
		{"1.3.6.1.4.1.311", nil},
		{"2001:db8::1", []string{"ip=2001:db8::1"}},
		{"fe80::1ff:fe23:4567:890a", []string{"ip=fe80::1ff:fe23:4567:890a"}},
		{"::ffff:203.0.113.7", []string{"ip=::ffff:203.0.113.7"}},
		{"[2001:db8::8a2e:370:7334]:443", []string{"ip=2001:db8::8a2e:370:7334"}},
		{"12:34:56", nil},
		{"00:1A:2B:3C:4D:5E", nil}, // MAC address
		{"std::vector", nil},
		{"::", nil},
		// payment cards
		{"4111 1111 1111 1111", []string{"card=4111 1111 1111 1111"}},
		{"4111111111111111", []string{"card=4111111111111111"}},
		{"5555-5555-5555-4444", []string{"card=5555-5555-5555-4444"}},
		{"378282246310005", []string{"card=378282246310005"}},
		{"3782 822463 10005", []string{"card=3782 822463 10005"}},
		{"6011111111111117", []string{"card=6011111111111117"}},
		{"2223003122003222", []string{"card=2223003122003222"}},
		{"3530111333300000", []string{"card=3530111333300000"}},
		{"my card 4111-1111-1111-1111 was charged", []string{"card=4111-1111-1111-1111"}},
		{"4111111111111112", nil},   // Luhn fails
		{"1000482913375521", nil},   // Luhn-valid order id, no issuer prefix
		{"1732540000000000", nil},   // µs timestamp
		{"41111 11111 111111", nil}, // grouping no card uses
		{"4111 1111 1111 111", nil}, // 15-digit Visa does not exist
		{"ord_4111111111111111", nil},
		// IBAN
		{"GB82 WEST 1234 5698 7654 32", []string{"iban=GB82 WEST 1234 5698 7654 32"}},
		{"GB82WEST12345698765432", []string{"iban=GB82WEST12345698765432"}},
		{"DE89370400440532013000", []string{"iban=DE89370400440532013000"}},
		{"pay to DE89 3704 0044 0532 0130 00 today", []string{"iban=DE89 3704 0044 0532 0130 00"}},
		{"FR1420041010050500013M02606", []string{"iban=FR1420041010050500013M02606"}},
		{"GB83WEST12345698765432", nil}, // checksum
		{"XX82WEST12345698765432", nil}, // no such country
		{"DE8937040044053201300", nil},  // one character short
		// credentials
		{validJWT, []string{"jwt=" + validJWT}},
		{"Authorization: Bearer " + validJWT, []string{"jwt=" + validJWT}},
		{jwt(`{"typ":"JWT"}`, `{"sub":"1"}`), nil},              // header without alg
		{jwt(`{"alg":1}`, `{"sub":"1"}`), nil},                  // alg not a string
		{jwt(`{"alg":"HS256"`, `{"sub":"1"}`), nil},             // header is not JSON
		{"eyJhbGciOiJIUzI1NiJ9", nil},                           // one segment
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig.extra", nil}, // four segments
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", []string{"api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"key=sk_test_4eC39HqLyjWDarjtT1zdp7dc;", []string{"api_key=sk_test_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", []string{"api_key=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"}},
		{"sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-AA", []string{"api_key=sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-AA"}},
		{"AKIAIOSFODNN7EXAMPLE", []string{"api_key=AKIAIOSFODNN7EXAMPLE"}},
		{"ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R", []string{"api_key=ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R"}},
		{"xoxb-123456789012-1234567890123-AbCdEfGhIjKl", []string{"api_key=xoxb-123456789012-1234567890123-AbCdEfGhIjKl"}},
		{"AIzaSyA-1234567890abcdefghijklmnopqrstu", []string{"api_key=AIzaSyA-1234567890abcdefghijklmnopqrstu"}},
		{"Bearer abcdefghijklmnop1234", []string{"bearer_token=abcdefghijklmnop1234"}},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", []string{"basic_auth=YWxhZGRpbjpvcGVuc2VzYW1l"}},
		{"Basic realm=\"api\"", nil},
		{"sk-short", nil},
		{"task-force-alpha-bravo-charlie-delta", nil},
		{"desk-1234567890abcdefghijklmno", nil},
		{"AKIAIOSFODNN7EXAMPLEX", nil}, // too long
		// national ids
		{"123-45-6789", []string{"ssn=123-45-6789"}},
		{"SSN 219-45-6789 on file", []string{"ssn=219-45-6789"}},
		{"000-12-3456", nil},
		{"666-12-3456", nil},
		{"900-12-3456", nil},
		{"123-00-4567", nil},
		{"123-45-0000", nil},
		{"078-05-1120", nil}, // the Woolworth wallet card
		{"AB 12 34 56 C", []string{"nino=AB 12 34 56 C"}},
		{"AB123456C", []string{"nino=AB123456C"}},
		{"QQ123456C", nil}, // HMRC's example prefix is not issued
		{"GB123456A", nil},
		{"AB123456E", nil},
		// street addresses
		{"221B Baker Street, London", []string{"street_address=221B Baker Street"}},
		{"1600 Pennsylvania Avenue NW", []string{"street_address=1600 Pennsylvania Avenue"}},
		{"3 Main St.", []string{"street_address=3 Main St"}},
		{"12 rue de Rivoli, Paris", []string{"street_address=12 rue de Rivoli"}},
		{"Hauptstraße 5, Berlin", []string{"street_address=Hauptstraße 5"}},
		{"Berliner Straße 12", []string{"street_address=Berliner Straße 12"}},
		{"we walked 5 miles down the road", nil},
		{"Top 10 Ways to Save", nil},
		{"Version 2 Street", nil},
		{"350 5t Avenue", nil}, // not an ordinal
		{"42nd Street", nil},   // no house number
		{"350 5th Avenue", []string{"street_address=350 5th Avenue"}},
		// coordinates
		{"51.5074,-0.1278", []string{"coordinates=51.5074,-0.1278"}},
		{"(51.5074, -0.1278)", []string{"coordinates=51.5074, -0.1278"}},
		{"91.5074,-0.1278", nil},
		{"1.5,2.5", nil},
		{"0.0000,0.0000", nil},
		// hashes
		{sha, []string{"hash=" + sha}},
		{sha[:63], nil},
		// ordinary values
		{"", nil},
		{"Chrome", nil},
		{"Mac OS X", nil},
		{"San Francisco", nil},
		{"pay-as-you-go", nil},
		{"org-abc", nil},
		{"u_123", nil},
		{"$direct", nil},
		{"https://www.google.com/", nil},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", nil},
		{"ajs-next-1732540000000-9e1c2d3f-4a5b-46c7-8d9e-0f1a2b3c4d5e", nil},
	}
	c := DefaultClassifier()
	for _, tt := range tests {
		got := c.Value(tt.in)
		var gotS []string
		for _, f := range got {
			gotS = append(gotS, f.Kind+"="+tt.in[f.Start:f.End])
			if want, ok := valueCategory[f.Kind]; !ok || f.Category != want {
				t.Errorf("Value(%q): %s finding has category %q, want %q", tt.in, f.Kind, f.Category, want)
			}
			if f.Confidence <= 0 || f.Confidence > 1 {
				t.Errorf("Value(%q): confidence %v out of range", tt.in, f.Confidence)
			}
		}
		if !slices.Equal(gotS, tt.want) {
			t.Errorf("Value(%q)\n got %q\nwant %q", tt.in, gotS, tt.want)
		}
	}
}

func TestValueExactSpan(t *testing.T) {
	s := "Hi, I'm Ada (ada.lovelace@example.com); call +44 20 7946 0958."
	got := DefaultClassifier().Value(s)
	want := []Finding{
		{Category: "user.contact.email", Kind: KindEmail, Start: 13, End: 37},
		{Category: "user.contact.phone_number", Kind: KindPhone, Start: 45, End: 61},
	}
	if len(got) != len(want) {
		t.Fatalf("Value(%q) = %+v, want %+v", s, got, want)
	}
	for i := range want {
		g := got[i]
		g.Confidence = 0
		if g != want[i] {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// Pathological inputs must stay linear: a quadratic detector would take
// minutes on these, the bound is generous to avoid flakiness.
func TestValueLinearTime(t *testing.T) {
	const n = 1 << 20
	c := DefaultClassifier()
	for name, s := range map[string]string{
		"digits":      strings.Repeat("1", n),
		"spaced":      strings.Repeat("1 ", n/2),
		"dashed":      strings.Repeat("12-", n/3),
		"dots":        strings.Repeat("1.", n/2),
		"colons":      strings.Repeat("a:", n/2),
		"ats":         strings.Repeat("a@", n/2),
		"at-domain":   "a@" + strings.Repeat("b.", n/2),
		"words":       strings.Repeat("1 Aaaa ", n/7),
		"fraction":    "1." + strings.Repeat("1", n),
		"jwt":         strings.Repeat("eyJ.", n/4),
		"bearer":      strings.Repeat("Bearer x", n/8),
		"hex":         strings.Repeat("a1", n/2),
		"iban-starts": strings.Repeat("GB82 ", n/5),
		"plus":        strings.Repeat("+1 ", n/3),
	} {
		start := time.Now()
		c.Value(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: Value of %d bytes took %v", name, len(s), d)
		}
	}
}

func TestValueOverlapsKeepLongest(t *testing.T) {
	// the digits of the IBAN look like a national phone number on their own
	got := DefaultClassifier().Value("DE89 3704 0044 0532 0130 00")
	if len(got) != 1 || got[0].Kind != KindIBAN {
		t.Fatalf("got %+v, want one IBAN finding", got)
	}
}

type pathCat struct{ path, cat string }

func scanSet(t *testing.T, c *Classifier, b []byte) []pathCat {
	t.Helper()
	var got []pathCat
	err := c.ScanJSON(b, func(p string, f Finding) {
		got = append(got, pathCat{p, f.Category})
	})
	if err != nil {
		t.Fatalf("ScanJSON: %v", err)
	}
	slices.SortFunc(got, func(a, b pathCat) int { return strings.Compare(a.path+"\x00"+a.cat, b.path+"\x00"+b.cat) })
	return slices.Compact(got)
}

func parsePathCats(s string) []pathCat {
	var out []pathCat
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		pc := pathCat{path: f[0]}
		if len(f) > 1 {
			pc.cat = f[1]
		}
		out = append(out, pc)
	}
	slices.SortFunc(out, func(a, b pathCat) int { return strings.Compare(a.path+"\x00"+a.cat, b.path+"\x00"+b.cat) })
	return out
}

func TestScanJSONFixtures(t *testing.T) {
	tests := []struct{ file, want string }{
		{"mixpanel_batch.json", `
[].properties.token user.authorization.credentials
[].properties.distinct_id user.unique_id
[].properties.$device_id user.device.device_id
[].properties.$user_id user.unique_id
[].properties.$browser user.device.user_agent
[].properties.$browser_version user.device.user_agent
[].properties.$os user.device.user_agent
[].properties.$device user.device.user_agent
[].properties.$current_url user.behavior.browsing_history
[].properties.$current_url user.contact.email
[].properties.$referrer user.behavior.referrer
[].properties.$referring_domain user.behavior.referrer
[].properties.$initial_referrer user.behavior.referrer
[].properties.$screen_height user.device.user_agent
[].properties.$screen_width user.device.user_agent
[].properties.utm_source user.behavior.referrer
[].properties.$city user.location.imprecise
[].properties.$region user.location.imprecise
[].properties.mp_country_code user.location.imprecise
[].properties.org_id user.contact.organization
[].properties.plan user.account.settings
[].properties.amount user.behavior.purchase_history
[].properties.note user.contact.address.street
[].properties.note user.contact.phone_number
[].properties.gclid user.device.advertising_id
[].properties.server user.device.ip_address
[].properties.message user.content.private
[].properties.message user.financial.credit_card
[].properties.message user.contact.email`},
		{"segment_identify.json", `
userId user.unique_id
anonymousId user.device.device_id
traits.email user.contact.email
traits.name user.name
traits.firstName user.name.first
traits.lastName user.name.last
traits.phone user.contact.phone_number
traits.birthday user.demographic.date_of_birth
traits.title user.workplace
traits.plan user.account.settings
traits.address user.contact.address
traits.address.street user.contact.address.street
traits.address.city user.contact.address.city
traits.address.state user.contact.address.state
traits.address.postalCode user.contact.address.postal_code
traits.address.country user.contact.address.country
traits.company user.contact.organization
traits.company.name user.contact.organization
traits.company.id user.contact.organization
traits.avatar user.content.self_image
context.ip user.device.ip_address
context.userAgent user.device.user_agent
context.locale user.account.settings
context.timezone user.location.imprecise
context.page.path user.behavior.browsing_history
context.page.referrer user.behavior.referrer
context.page.title user.behavior.browsing_history
context.page.url user.behavior.browsing_history
context.location.city user.location.imprecise
context.location.country user.location.imprecise
context.location.latitude user.location.precise
context.location.longitude user.location.precise
context.campaign user.behavior.referrer
context.campaign.name user.behavior.referrer
context.campaign.source user.behavior.referrer
context.campaign.medium user.behavior.referrer
writeKey user.authorization.credentials`},
		{"ga4_collect.json", `
client_id user.device.device_id
user_id user.unique_id
user_properties.plan user.account.settings
user_location.city user.location.imprecise
user_location.country_id user.location.imprecise
user_location.region_id user.location.imprecise
ip_override user.device.ip_address
device user.device.user_agent
device.category user.device.user_agent
device.browser user.device.user_agent
user_data.sha256_email_address user.contact.email
user_data.sha256_email_address[]
user_data.sha256_phone_number user.contact.phone_number
user_data.sha256_phone_number[]
events[].params.session_id user.authorization.credentials`},
		{"amplitude_httpapi.json", `
api_key user.authorization.credentials
events[].user_id user.unique_id
events[].device_id user.device.device_id
events[].event_properties.plan user.account.settings
events[].user_properties.email user.contact.email
events[].user_properties.$set.name user.name
events[].groups.company user.contact.organization
events[].ip user.device.ip_address
events[].city user.location.imprecise
events[].region user.location.imprecise
events[].country user.location.imprecise
events[].language user.demographic.language
events[].os_name user.device.user_agent
events[].os_version user.device.user_agent
events[].device_model user.device.user_agent
events[].location_lat user.location.precise
events[].location_lng user.location.precise
events[].session_id user.authorization.credentials`},
	}
	c := DefaultClassifier()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "classify", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, want := scanSet(t, c, b), parsePathCats(tt.want)
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %s %q", w.path, w.cat)
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("unexpected %s %q", g.path, g.cat)
				}
			}
		})
	}
}

func TestScanJSONFindingDetails(t *testing.T) {
	doc := `{"traits":{"\u0024email":"ada\u0040example.com","bio":"I am ada@example.com"}}`
	type rec struct {
		path string
		f    Finding
	}
	var got []rec
	if err := DefaultClassifier().ScanJSON([]byte(doc), func(p string, f Finding) {
		f.Confidence = 0
		got = append(got, rec{p, f})
	}); err != nil {
		t.Fatal(err)
	}
	want := []rec{
		{"traits.$email", Finding{Category: "user.contact.email", Kind: KindFieldName, Start: 0, End: 6}},
		{"traits.$email", Finding{Category: "user.contact.email", Kind: KindEmail, Start: 0, End: 15}}, // span in the unescaped value
		{"traits.bio", Finding{Category: "user.contact.email", Kind: KindEmail, Start: 5, End: 20}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestScanJSONEmptyValuesHaveNoFieldFinding(t *testing.T) {
	doc := `{"email":null,"phone":"","address":{},"emails":[],"name":"Ada","ip":false,"age":0,"tags":[{"a":1}],"company":{"x":1}}`
	got := scanSet(t, DefaultClassifier(), []byte(doc))
	want := []pathCat{
		{"age", "user.demographic.age_range"},
		{"company", "user.contact.organization"},
		{"ip", "user.device.ip_address"},
		{"name", "user.name"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestScanJSONValidity(t *testing.T) {
	deep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	tooDeep := "[" + deep + "]"
	for _, doc := range []string{
		``, ` `, `{`, `}`, `[`, `[1,]`, `[,1]`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`,
		`"abc`, `"a\qb"`, `"\u12G4"`, `"\u12"`, "\"a\x01b\"", `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `--1`,
		`tru`, `truex`, `nul`, `null null`, `[1] [2]`, `{"a":[1,2}`, `[{"a":1]`, `"\`, `[1 2]`, "\ufeff{}",
		`{"a":"b"`, `{"a"`, `{"a":`, `[1e5.5]`, `NaN`, `Infinity`, `{"a":1}}`, `[]]`,
		`0`, `-0`, `-0.0e-0`, `1E+2`, `123.456e789`, `"x"`, `""`, `{}`, `[]`, ` {"a" : [ true , false , null ] } `,
		`"\u00e9\ud83d\ude00\ud83d"`, "\"\xff\xfe\"", `{"":""}`, `[[[]]]`, `"\/\b\f\n\r\t\\\""`,
		deep, tooDeep,
	} {
		err := DefaultClassifier().ScanJSON([]byte(doc), nil)
		if valid := json.Valid([]byte(doc)); (err == nil) != valid {
			short := doc
			if len(short) > 40 {
				short = short[:40] + "…"
			}
			t.Errorf("ScanJSON(%q) error = %v, but json.Valid = %v", short, err, valid)
		}
	}
}

func TestUnescapeJSONMatchesEncodingJSON(t *testing.T) {
	for _, lit := range []string{`"plain"`, `"\u00e9\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, `"a\/b\\c\"d\n\t"`, `"\u0000"`} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(unescapeJSON(nil, []byte(lit[1:len(lit)-1]))); got != want {
			t.Errorf("unescapeJSON(%s) = %q, want %q", lit, got, want)
		}
	}
}

func TestNewClassifierCustomTree(t *testing.T) {
	tr, err := Parse([]byte(`
version: test
categories:
  - {key: user, name: User, sensitivity: 1}
  - {key: user.device, name: Device, sensitivity: 1}
  - {key: user.unique_id, name: Id, sensitivity: 2, fields: [kundennummer]}
  - {key: user.contact, name: Contact, sensitivity: 2}
  - {key: system, name: System, sensitivity: 0, fields: [email_template]}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClassifier(tr)
	for name, want := range map[string]string{
		"kundennummer":   "user.unique_id", // the tree's own field
		"KundenNummer":   "user.unique_id",
		"$browser":       "user.device",  // user.device.user_agent is not in this tree
		"email":          "user.contact", // nor user.contact.email
		"email_template": "",             // a non-personal field of the tree
		"iban":           "user",         // user.financial is missing altogether
	} {
		if f, _ := c.FieldName(name); f.Category != want {
			t.Errorf("FieldName(%q) = %q, want %q", name, f.Category, want)
		}
	}
	if f := c.Value("ada@example.com"); len(f) != 1 || f[0].Category != "user.contact" {
		t.Errorf("Value(email) = %+v, want category user.contact", f)
	}
}

func TestScanJSONConcurrent(t *testing.T) {
	c := NewClassifier(Default())
	doc := mixpanelBatch(64 << 10)
	var want int
	if err := c.ScanJSON(doc, func(string, Finding) { want++ }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			n := 0
			if err := c.ScanJSON(doc, func(string, Finding) { n++ }); err != nil || n != want {
				errs <- fmt.Errorf("n=%d want %d err=%v", n, want, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// decoderValueFindings is the reference for ScanJSON's value findings: walk
// the document with encoding/json's tokenizer and run Value on each string.
func decoderValueFindings(c *Classifier, b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		obj     bool
		pathLen int
		wantKey bool
	}
	var (
		stack []level
		path  string
		out   []string
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var top *level
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if d, ok := tok.(json.Delim); !ok || d != '}' {
				path = path[:top.pathLen]
				if path != "" {
					path += "."
				}
				path += tok.(string)
				top.wantKey = false
				continue
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, level{obj: true, pathLen: len(path), wantKey: true})
			case '[':
				stack = append(stack, level{pathLen: len(path)})
				path += "[]"
			default:
				path = path[:top.pathLen]
				stack = stack[:len(stack)-1]
			}
		case string:
			for _, f := range c.Value(v) {
				out = append(out, fmt.Sprintf("%s %s %d %d", path, f.Kind, f.Start, f.End))
			}
		}
		// a value ended (a scalar, '}' or ']'): the enclosing object wants a key
		if opening := tok == json.Delim('{') || tok == json.Delim('['); !opening && len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].wantKey = true
		}
	}
}

func scanValueFindings(t testing.TB, c *Classifier, b []byte) []string {
	var out []string
	if err := c.ScanJSON(b, func(p string, f Finding) {
		if f.Kind != KindFieldName {
			out = append(out, fmt.Sprintf("%s %s %d %d", p, f.Kind, f.Start, f.End))
		}
	}); err != nil {
		t.Fatalf("ScanJSON: %v", err)
	}
	return out
}

func TestScanJSONMatchesDecoder(t *testing.T) {
	c := DefaultClassifier()
	docs := [][]byte{mixpanelBatch(32 << 10), []byte(`{"a":{"b":[{"c":"x@example.com"},"203.0.113.7",[["+1 415 555 0100"]]],"d":{}},"e":"\u0061@example.com"}`)}
	files, _ := filepath.Glob(filepath.Join("testdata", "classify", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	for i, b := range docs {
		want, err := decoderValueFindings(c, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Errorf("doc %d: no value findings, the comparison is vacuous", i)
		}
		if got := scanValueFindings(t, c, b); !slices.Equal(got, want) {
			t.Errorf("doc %d: ScanJSON value findings differ from the encoding/json walk\n got %q\nwant %q", i, got, want)
		}
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{
		"ada@example.com", "+1 415 555 0100", "(415) 555-0100", "127.0.0.1", "2001:db8::1", "4111 1111 1111 1111",
		"GB82 WEST 1234 5698 7654 32", "123-45-6789", "AB 12 34 56 C", "221B Baker Street", "Hauptstraße 5",
		"12 rue de Rivoli", "51.5074,-0.1278", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Bearer abcdefghijklmnop1234",
		"Basic YWxhZGRpbjpvcGVuc2VzYW1l", jwt(`{"alg":"none"}`, `{}`), "x%40example.com", "::ffff:1.2.3.4",
	} {
		f.Add(s)
	}
	c := DefaultClassifier()
	f.Fuzz(func(t *testing.T, s string) {
		got := c.Value(s)
		for i, x := range got {
			if x.Start < 0 || x.End > len(s) || x.Start >= x.End {
				t.Fatalf("finding %+v out of bounds for len %d", x, len(s))
			}
			if i > 0 && (x.Start < got[i-1].Start || x.Start < got[i-1].End) {
				t.Fatalf("findings not sorted or overlapping: %+v", got)
			}
			if x.Kind == "" || x.Confidence <= 0 || x.Confidence > 1 {
				t.Fatalf("bad finding %+v", x)
			}
		}
	})
}

func FuzzScanJSON(f *testing.F) {
	for _, name := range []string{"mixpanel_batch.json", "segment_identify.json", "ga4_collect.json", "amplitude_httpapi.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "classify", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u00e9\ud83d"`, `[-0.5e+3,true,false]`, `{"$email":"a@b.co"}`, `[`, `{"a":}`} {
		f.Add([]byte(s))
	}
	c := DefaultClassifier()
	f.Fuzz(func(t *testing.T, b []byte) {
		err := c.ScanJSON(b, func(p string, x Finding) {
			if x.Start < 0 || x.Start >= x.End {
				t.Fatalf("bad span %+v at %s", x, p)
			}
		})
		valid := json.Valid(b)
		if valid != (err == nil) {
			t.Fatalf("json.Valid = %v but ScanJSON error = %v", valid, err)
		}
		// encoding/json replaces invalid UTF-8, which shifts spans: compare
		// only valid UTF-8 documents
		if valid && utf8.Valid(b) {
			want, err := decoderValueFindings(c, b)
			if err != nil {
				t.Fatalf("decoder: %v", err)
			}
			if got := scanValueFindings(t, c, b); !slices.Equal(got, want) {
				t.Fatalf("ScanJSON value findings %q, encoding/json walk %q", got, want)
			}
		}
	})
}
