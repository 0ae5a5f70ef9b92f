package discover

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
)

// initMethods start or configure an SDK.
var initMethods = map[string]bool{
	"init": true, "initialize": true, "load": true, "start": true, "configure": true, "setup": true,
	"new": true, "client": true, "getinstance": true, "with": true, "builder": true, "config": true,
}

// sendPrefixes start the names of methods that send data to a vendor
// (track, identify, people.set, setUser, Customer.create, Enqueue…).
var sendPrefixes = []string{
	"track", "identify", "capture", "set", "add", "create", "update", "modify", "upsert", "send",
	"post", "enqueue", "log", "alias", "register", "change", "put", "push", "page", "screen",
	"group", "subscribe", "record", "people", "append", "union", "increment", "boot", "event", "collect",
	"notify", "report", "submit", "insert", "charge", "purchase", "order", "checkout", "signup",
}

// notSend are method prefixes that read, remove or configure rather than send data.
var notSend = []string{"settings", "setup", "setlevel", "setloglevel", "setdebug", "setenabled", "setsamplerate",
	"setenvironment", "setrelease", "setoptout", "set_level", "setserverurl", "setflushinterval"}

// isSend reports whether method (the last name of a call chain) sends data to vendor.
func (x *index) isSend(vendor, chain, method string) bool {
	lower := strings.ToLower(method)
	if calls := x.calls[vendor]; calls[lower] || calls[strings.ToLower(chain)] {
		return true
	}
	for _, p := range notSend {
		if strings.HasPrefix(lower, p) {
			return false
		}
	}
	for _, p := range sendPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// callSite is a call or composite literal at src[open] ('(' or '{').
type callSite struct {
	start int      // offset of the chain's first identifier
	chain []string // identifiers, root first ("mixpanel", "people", "set")
	isNew bool     // preceded by the keyword new
}

// identBefore returns the start of the identifier that ends at end.
func identBefore(src []byte, end int) int {
	i := end
	for i > 0 && (isWordByte(src[i-1]) || src[i-1] == '$') {
		i--
	}
	return i
}

func skipSpaceBack(src []byte, i int) int {
	for i > 0 && (src[i-1] == ' ' || src[i-1] == '\t' || src[i-1] == '\n' || src[i-1] == '\r') {
		i--
	}
	return i
}

// groupBefore skips a bracketed group that ends at src[end-1] backwards.
func groupBefore(src []byte, end int) int {
	depth := 0
	for i := end - 1; i >= 0 && end-i < 4096; i-- {
		switch src[i] {
		case ')', ']', '}':
			depth++
		case '(', '[', '{':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// chainAt reads the call chain whose last identifier ends at end
// (mixpanel.people.set, Braze.getInstance(ctx).currentUser?.setEmail,
// $stripe->customers->create, Stripe::Customer.create, \Sentry\init).
func chainAt(src []byte, end int) (callSite, bool) {
	start := identBefore(src, end)
	if start == end || ('0' <= src[start] && src[start] <= '9') {
		return callSite{}, false
	}
	cs := callSite{chain: []string{string(src[start:end])}}
	i := start
	for len(cs.chain) < 12 {
		j := skipSpaceBack(src, i)
		var acc int
		switch {
		case j >= 2 && (string(src[j-2:j]) == "?." || string(src[j-2:j]) == "::" || string(src[j-2:j]) == "->" || string(src[j-2:j]) == "!."):
			acc = 2
		case j >= 1 && (src[j-1] == '.' || src[j-1] == '\\'):
			acc = 1
		}
		if acc == 0 {
			break
		}
		k := skipSpaceBack(src, j-acc)
		if k > 0 && (src[k-1] == ')' || src[k-1] == ']') {
			if g := groupBefore(src, k); g >= 0 {
				k = skipSpaceBack(src, g)
			} else {
				break
			}
		}
		s := identBefore(src, k)
		if s == k {
			if src[j-1] == '\\' { // leading namespace separator
				i = j - 1
			}
			break
		}
		cs.chain = append([]string{string(src[s:k])}, cs.chain...)
		i = s
	}
	cs.start = i
	if w := skipSpaceBack(src, i); w >= 3 && string(src[w-3:w]) == "new" && (w == 3 || !isWordByte(src[w-4])) {
		cs.isNew = true
	}
	return cs, true
}

// keywords are identifiers that are never receivers or data elements.
var keywords = map[string]bool{
	"if": true, "for": true, "while": true, "switch": true, "return": true, "function": true, "func": true,
	"catch": true, "def": true, "fun": true, "class": true, "new": true, "await": true, "async": true,
	"this": true, "self": true, "super": true, "typeof": true, "elif": true, "else": true, "do": true,
	"true": true, "false": true, "null": true, "nil": true, "None": true, "True": true, "False": true,
	"const": true, "let": true, "var": true, "val": true, "import": true, "from": true, "try": true, "with": true,
	"props": true, "properties": true, "options": true, "opts": true, "params": true, "data": true,
	"context": true, "ctx": true, "event": true, "payload": true, "body": true, "json": true, "config": true,
	"string": true, "String": true, "int": true, "map": true, "mapOf": true, "dict": true, "array": true,
	"Some": true, "Ok": true, "err": true, "error": true, "req": true, "res": true, "request": true,
	"response": true, "value": true, "values": true, "key": true, "type": true, "time": true, "to": true,
	"traits": true, "attributes": true, "metadata": true, "extra": true, "tags": true, "fields": true,
}

var (
	reQuotedKey  = regexp.MustCompile(`["']([$\w][\w$.\-]{0,63})["']\s*(?::|=>|\bto\b|\]\s*=)`)
	reBareKey    = regexp.MustCompile(`(?:^|[{,(\s])([A-Za-z_$][\w$]*)\s*:[^:]`)
	reKwarg      = regexp.MustCompile(`(?:^|[(,\s])([A-Za-z_]\w*)\s*=[^=>]`)
	reMember     = regexp.MustCompile(`[A-Za-z_$][\w$]*(?:\s*(?:\.|\?\.|->)\s*[A-Za-z_$][\w$]*|\[\s*["'][\w$]+["']\s*\])+`)
	reSetter     = regexp.MustCompile(`\.\s*[sS]et_?([A-Z][A-Za-z]*)\s*\(`)
	reSetKey     = regexp.MustCompile(`\.\s*(?:[sS]et|[aA]dd|[pP]ut)\w*\(\s*["']([\w$]+)["']\s*,`)
	reFirstKey   = regexp.MustCompile(`^\(\s*["']([\w$]+)["']\s*,`)
	reBoolAfter  = regexp.MustCompile(`^["']?\s*(?::|=>|=|\bto\b)\s*(?:true|false|True|False|nil|null|None)\b`)
	reShorthand  = regexp.MustCompile(`[{,]\s*([A-Za-z_$][\w$]*)\s*[,}]`)
	reJSONTag    = regexp.MustCompile("(?:json|form|xml):\\\\?\"(\\w+)")
	reStrValue   = regexp.MustCompile(`"([^"\\\n]{5,200})"|'([^'\\\n]{5,200})'`)
	reIdentArg   = regexp.MustCompile(`[(,]\s*([A-Za-z_$][\w$]*)\s*[,)]`)
	reDefaultPII = regexp.MustCompile(`(?i)send_?default_?pii["']?\s*[:=]\s*(?:true|True)`)
)

// element is a data element seen in code.
type element struct {
	// id is an identifier field (id, ID, user.id) that names a person only
	// in a call about users.
	id     bool
	name   string // what to classify ("email", "fullName")
	text   string // as written ("user.email")
	strong bool   // a key or field, not just a variable in passing
}

// elements lists the data elements in a region of code: keys of object,
// dict, map and array literals, keyword arguments, struct fields, member
// expressions, setter names and shorthand properties.
func elements(region string) []element {
	var out []element
	seen := map[string]bool{}
	add := func(name, text string, strong bool) {
		name = strings.TrimLeft(name, "$")
		if name == "" || keywords[name] || seen[text] {
			return
		}
		seen[text] = true
		out = append(out, element{name: name, text: text, strong: strong, id: isIDName(name)})
	}
	// keyed adds the keys a regular expression finds, except settings
	// (anonymize_ip: true, sendDefaultPii: false) whose value is a literal
	// boolean or null: they configure, they carry no data.
	keyed := func(re *regexp.Regexp) {
		for _, m := range re.FindAllStringSubmatchIndex(region, -1) {
			if reBoolAfter.MatchString(region[m[3]:]) {
				continue
			}
			k := region[m[2]:m[3]]
			add(k, k, true)
		}
	}
	keyed(reQuotedKey)
	keyed(reBareKey)
	keyed(reKwarg)
	keyed(reJSONTag)
	keyed(reSetKey)
	keyed(reFirstKey)
	for _, m := range reSetter.FindAllStringSubmatch(region, -1) {
		add(m[1], "set"+m[1], true)
	}
	for _, m := range reShorthand.FindAllStringSubmatch(region, -1) {
		add(m[1], m[1], false)
	}
	for _, m := range reMember.FindAllString(region, -1) {
		text := strings.Join(strings.Fields(m), "")
		if text = strings.NewReplacer("?.", ".", "->", ".", "!!.", ".").Replace(text); strings.ContainsAny(text, "[") {
			text = strings.NewReplacer(`["`, ".", `"]`, "", `['`, ".", `']`, "", `[`, ".", `]`, "").Replace(text)
		}
		parts := strings.Split(text, ".")
		last := parts[len(parts)-1]
		add(last, text, false)
		// user.id, acct.ID, currentUser.id: the owner says whose id it is.
		if isIDName(last) && len(parts) >= 2 && personish(parts[len(parts)-2]) {
			out[len(out)-1].id, out[len(out)-1].strong = true, true
			out[len(out)-1].name = "user_id"
		}
	}
	return out
}

// isIDName reports a bare identifier field.
func isIDName(n string) bool { return n == "id" || n == "ID" || n == "Id" || n == "_id" }

// personish reports a name that stands for a person or their account.
func personish(n string) bool {
	n = strings.ToLower(strings.TrimLeft(n, "@$_"))
	for _, w := range []string{"user", "account", "acct", "customer", "member", "person", "profile", "owner", "contact", "me", "viewer", "subscriber"} {
		if n == w || strings.HasSuffix(n, w) || strings.HasPrefix(n, w) {
			return true
		}
	}
	return false
}

// userCall reports a call about a person: identify, setUser, people.set,
// customers.create, changeUser, alias.
func userCall(chain string) bool {
	c := strings.ToLower(chain)
	for _, w := range []string{"user", "identify", "people", "customer", "profile", "alias", "person", "contact", "member", "subscriber"} {
		if strings.Contains(c, w) {
			return true
		}
	}
	return false
}

// identUses are the places a file assigns an identifier and sets
// properties on it, in file order.
type identUses struct {
	assigns []identUse // at: where the name starts; value: where its value starts
	props   []identUse // name: the property set
}

type identUse struct {
	at, value int
	name      string
}

// usesOf finds every assignment of ident in src and every property set on
// it, once per file: a file with thousands of calls passing the same
// variable asks for it thousands of times.
func usesOf(src []byte, ident string) *identUses {
	u := &identUses{}
	id := []byte(ident)
	for p := 0; ; p += len(id) {
		k := bytes.Index(src[p:], id)
		if k < 0 {
			break
		}
		p += k
		if !identStarts(src, p) {
			continue
		}
		if v, ok := assignOp(src, p+len(id)); ok {
			u.assigns = append(u.assigns, identUse{at: p, value: v})
		} else if prop, ok := propertySet(src, p+len(id)); ok {
			u.props = append(u.props, identUse{at: p, name: prop})
		}
	}
	return u
}

// literalFor finds the literal assigned to ident before offset before (props
// = {...}, traits := map[string]any{...}, $data = [...], user =
// Sentry.User(...)) and the properties set on it between the two
// (props.email = …, traits["plan"] = …), and returns their text.
func (fc *fileScan) literalFor(ident string, before int) string {
	ident = strings.TrimLeft(ident, "@")
	if ident == "" {
		return ""
	}
	u, ok := fc.uses[ident]
	if !ok {
		if fc.uses == nil {
			fc.uses = map[string]*identUses{}
		}
		u = usesOf(fc.src, ident)
		fc.uses[ident] = u
	}
	src := fc.src
	// The last assignment that ends before the call.
	i, _ := slices.BinarySearchFunc(u.assigns, before, func(a identUse, b int) int { return a.value - b })
	if i == 0 {
		return ""
	}
	a := u.assigns[i-1]
	at := a.value
	var b strings.Builder
	for i := at; i < len(src) && i < at+80; i++ {
		if src[i] == '\n' && i > at+40 {
			break
		}
		if src[i] == '{' || src[i] == '[' || src[i] == '(' {
			b.Write(src[i:balanced(src, i, 4096)])
			break
		}
	}
	// Properties set on it between the assignment and the call.
	k, _ := slices.BinarySearchFunc(u.props, at, func(p identUse, b int) int { return p.at - b })
	for n := 0; k < len(u.props) && u.props[k].at < before && n < 32; k, n = k+1, n+1 {
		b.WriteString(", " + u.props[k].name + ": x")
	}
	return b.String()
}

// identStarts reports whether an identifier starts at p of s: the byte
// before it (skipping one '@') is not part of a name or a member access.
func identStarts(s []byte, p int) bool {
	if p > 0 && s[p-1] == '@' {
		p--
	}
	return p == 0 || !(isWordByte(s[p-1]) || s[p-1] == '$' || s[p-1] == '.')
}

// assignOp reads an assignment operator at p (after a name): "=", ":=" or a
// type annotation and "=" (props: Record<string, any> =), with the white
// space around it, and returns where the value starts.
func assignOp(s []byte, p int) (int, bool) {
	p = skipSpace(s, p)
	switch {
	case p+1 < len(s) && s[p] == ':' && s[p+1] == '=':
		p += 2
	case p < len(s) && s[p] == '=':
		if p+1 < len(s) && (s[p+1] == '=' || s[p+1] == '>') {
			return 0, false // a comparison or an arrow, not an assignment
		}
		p++
	case p < len(s) && s[p] == ':':
		p = skipSpace(s, p+1)
		q := p
		for q < len(s) && (isWordByte(s[q]) || bytes.IndexByte([]byte("<>[], ?"), s[q]) >= 0) {
			q++
		}
		if q == p || q >= len(s) || s[q] != '=' || (q+1 < len(s) && (s[q+1] == '=' || s[q+1] == '>')) {
			return 0, false
		}
		p = q + 1
	default:
		return 0, false
	}
	return skipSpace(s, p), true
}

// propertySet reads ".name =" or "["name"] =" at p (after a name) and
// returns the property's name.
func propertySet(s []byte, p int) (string, bool) {
	p = skipSpace(s, p)
	switch {
	case p < len(s) && s[p] == '.':
		p++
	case p < len(s) && s[p] == '[':
		p = skipSpace(s, p+1)
		if p >= len(s) || (s[p] != '"' && s[p] != '\'') {
			return "", false
		}
		p++
	default:
		return "", false
	}
	p = skipSpace(s, p)
	start := p
	if p >= len(s) || !(isLetter(s[p]) || s[p] == '_' || s[p] == '$') {
		return "", false
	}
	for p < len(s) && (isWordByte(s[p]) || s[p] == '$') {
		p++
	}
	name := string(s[start:p])
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	}
	if p < len(s) && s[p] == ']' {
		p++
	}
	p = skipSpace(s, p)
	if p+1 >= len(s) || s[p] != '=' || s[p+1] == '=' {
		return "", false
	}
	return name, true
}

func skipSpace(s []byte, p int) int {
	for p < len(s) && isSpaceByte(s[p]) {
		p++
	}
	return p
}
