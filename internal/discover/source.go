package discover

import (
	"regexp"
	"strings"
)

// Import statements, per language. Each returns the imported package or
// module and the names it binds in the file.
var (
	reJSImport     = regexp.MustCompile(`(?m)\bimport\s+(?:type\s+)?([\w$]+)?\s*,?\s*(?:\{([^}]*)\})?\s*(?:\*\s*as\s+([\w$]+))?\s*from\s*['"]([^'"\n]+)['"]`)
	reJSBare       = regexp.MustCompile(`(?m)\bimport\s*\(?\s*['"]([^'"\n]+)['"]`)
	reJSRequire    = regexp.MustCompile(`(?:(?:const|let|var)\s+(?:([\w$]+)|\{([^}]*)\})\s*=\s*)?require\(\s*['"]([^'"\n]+)['"]\s*\)`)
	rePyImport     = regexp.MustCompile(`(?m)^[ \t]*import[ \t]+([\w., \t]+)\r?$`)
	rePyFrom       = regexp.MustCompile(`(?m)^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(?:\(([\w, \t\r\n]+)\)|([\w, \t]+))`)
	reGoImport     = regexp.MustCompile(`(?m)^[ \t]*(?:import\s+)?(?:([\w.]+)\s+)?"([\w.\-~]+(?:/[\w.\-~]+)+)"`)
	reGoImportDecl = regexp.MustCompile(`(?m)^import[ \t]*(?:\([^)]*\)|[\w.]*[ \t]*"[^"\n]*")`)
	reRubyRequire  = regexp.MustCompile(`(?m)^[ \t]*require\s*\(?\s*['"]([\w\-/]+)['"]`)
	reJavaImport   = regexp.MustCompile(`(?m)^[ \t]*import\s+(?:static\s+)?([\w.]+)(?:\s+as\s+(\w+))?`)
	rePHPUse       = regexp.MustCompile(`(?m)^[ \t]*use\s+\\?([\w\\]+)(?:\s+as\s+(\w+))?\s*;`)
	reSwiftImport  = regexp.MustCompile(`(?m)^[ \t]*(?:@testable\s+)?import\s+(\w+)`)
	reRustUse      = regexp.MustCompile(`(?m)^[ \t]*(?:pub\s+)?(?:use|extern\s+crate)\s+(\w+)`)
	reCSharpUsing  = regexp.MustCompile(`(?m)^[ \t]*using\s+([\w.]+)\s*;`)
)

// pythonModules maps Python import names to PyPI packages where the two
// differ beyond PEP 503 normalization.
var pythonModules = map[string]string{
	"analytics": "segment-analytics-python", "segment": "segment-analytics-python",
	"sentry_sdk": "sentry-sdk", "intercom": "python-intercom", "mailchimp_marketing": "mailchimp-marketing",
	"mailchimp_transactional": "mailchimp-transactional", "amplitude": "amplitude-analytics",
	"google": "", "ldclient": "launchdarkly-server-sdk", "datadog": "datadog", "ddtrace": "ddtrace",
	"hubspot": "hubspot-api-client", "twilio": "twilio", "openai": "openai", "anthropic": "anthropic",
}

// importRef is one import statement.
type importRef struct {
	off   int
	spec  string   // as written
	names []string // identifiers it binds
}

// importKeywords are words every import statement of a language contains:
// only lines holding one are searched.
var importKeywords = map[lang][]string{
	langJS: {"import", "require"}, langPython: {"import"}, langGo: {"import"},
	langRuby: {"require"}, langJava: {"import"}, langPHP: {"use"}, langSwift: {"import"},
	langRust: {"use", "crate"}, langCSharp: {"using"},
}

// imports finds the import statements of src.
func imports(l lang, src []byte) []importRef {
	kw := importKeywords[l]
	if len(kw) == 0 {
		return nil
	}
	e := newExcerpt(src, kw...)
	var out []importRef
	add := func(off int, spec string, names ...string) {
		off = e.orig(off)
		var keep []string
		for _, n := range names {
			if n = strings.TrimSpace(n); n != "" && n != "_" && n != "." {
				keep = append(keep, n)
			}
		}
		out = append(out, importRef{off: off, spec: spec, names: keep})
	}
	s := string(e.text)
	switch l {
	case langJS:
		for _, m := range reJSImport.FindAllStringSubmatchIndex(s, -1) {
			names := []string{sub(s, m, 1), sub(s, m, 3)}
			names = append(names, namedImports(sub(s, m, 2))...)
			add(m[0], sub(s, m, 4), names...)
		}
		for _, m := range reJSBare.FindAllStringSubmatchIndex(s, -1) {
			add(m[0], sub(s, m, 1))
		}
		for _, m := range reJSRequire.FindAllStringSubmatchIndex(s, -1) {
			names := append([]string{sub(s, m, 1)}, namedImports(sub(s, m, 2))...)
			add(m[0], sub(s, m, 3), names...)
		}
	case langPython:
		for _, m := range rePyImport.FindAllStringSubmatchIndex(s, -1) {
			for _, part := range strings.Split(sub(s, m, 1), ",") {
				mod, alias, found := strings.Cut(strings.TrimSpace(part), " as ")
				mod = strings.TrimSpace(mod)
				name := strings.Split(mod, ".")[0]
				if found {
					name = alias
				}
				add(m[0], mod, name)
			}
		}
		for _, m := range rePyFrom.FindAllStringSubmatchIndex(s, -1) {
			mod := sub(s, m, 1)
			var names []string
			for _, part := range strings.Split(sub(s, m, 2)+sub(s, m, 3), ",") {
				n, alias, found := strings.Cut(strings.TrimSpace(part), " as ")
				if found {
					n = alias
				}
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
			add(m[0], mod, names...)
		}
	case langGo:
		// Only inside import declarations: a quoted "host/path" elsewhere
		// is a string, not an import.
		var decls strings.Builder
		for _, d := range reGoImportDecl.FindAllStringIndex(s, -1) {
			decls.WriteString(strings.Repeat(" ", d[0]-decls.Len()))
			decls.WriteString(s[d[0]:d[1]])
		}
		s = decls.String()
		for _, m := range reGoImport.FindAllStringSubmatchIndex(s, -1) {
			p := sub(s, m, 2)
			name := sub(s, m, 1)
			if name == "" {
				name = goPackageName(p)
			}
			add(m[4], p, name)
		}
	case langRuby:
		for _, m := range reRubyRequire.FindAllStringSubmatchIndex(s, -1) {
			add(m[0], sub(s, m, 1))
		}
	case langJava:
		for _, m := range reJavaImport.FindAllStringSubmatchIndex(s, -1) {
			p := sub(s, m, 1)
			name := sub(s, m, 2)
			if name == "" {
				name = p[strings.LastIndexByte(p, '.')+1:]
			}
			add(m[0], p, name)
		}
	case langPHP:
		for _, m := range rePHPUse.FindAllStringSubmatchIndex(s, -1) {
			p := sub(s, m, 1)
			name := sub(s, m, 2)
			if name == "" {
				name = p[strings.LastIndexByte(p, '\\')+1:]
			}
			add(m[0], p, name)
		}
	case langSwift:
		for _, m := range reSwiftImport.FindAllStringSubmatchIndex(s, -1) {
			add(m[0], sub(s, m, 1), sub(s, m, 1))
		}
	case langRust:
		for _, m := range reRustUse.FindAllStringSubmatchIndex(s, -1) {
			add(m[0], sub(s, m, 1), sub(s, m, 1))
		}
	case langCSharp:
		for _, m := range reCSharpUsing.FindAllStringSubmatchIndex(s, -1) {
			add(m[0], sub(s, m, 1))
		}
	}
	return out
}

// sub returns submatch i of m in s, or "".
func sub(s string, m []int, i int) string {
	if 2*i+1 >= len(m) || m[2*i] < 0 {
		return ""
	}
	return s[m[2*i]:m[2*i+1]]
}

// namedImports splits "a, b as c, type d" into the bound names.
func namedImports(list string) []string {
	var out []string
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(part), "type "))
		if _, alias, ok := strings.Cut(part, " as "); ok {
			part = alias
		}
		if _, alias, ok := strings.Cut(part, ":"); ok { // const { a: b } = require(...)
			part = alias
		}
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// goPackageName guesses the package name of a Go import path: the last
// element without a major-version suffix and without go-/-go affixes.
func goPackageName(p string) string {
	parts := strings.Split(p, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && strings.Trim(last[1:], "0123456789") == "" {
		last = parts[len(parts)-2]
	}
	if i := strings.Index(last, ".v"); i > 0 {
		last = last[:i]
	}
	last = strings.TrimSuffix(strings.TrimPrefix(last, "go-"), "-go")
	last = strings.TrimSuffix(last, ".go")
	return strings.ReplaceAll(last, "-", "")
}

// resolveImport maps an import to a vendor.
func (s *Scanner) resolveImport(l lang, spec string) (string, bool) {
	v := s.Vendors
	switch l {
	case langJS:
		if strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
			return "", false
		}
		if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
			return "", false
		}
		pkg := spec
		parts := strings.Split(spec, "/")
		if strings.HasPrefix(spec, "@") && len(parts) >= 2 {
			pkg = parts[0] + "/" + parts[1]
		} else {
			pkg = parts[0]
		}
		id, _, ok := v.Package("npm", pkg)
		return id, ok
	case langPython:
		parts := strings.Split(spec, ".")
		for i := len(parts); i > 0; i-- {
			mod := strings.Join(parts[:i], ".")
			if p, ok := pythonModules[mod]; ok {
				if p == "" {
					continue
				}
				mod = p
			}
			if id, _, ok := v.Package("pypi", mod); ok {
				return id, true
			}
		}
	case langGo:
		id, _, ok := v.Package("go", spec)
		return id, ok
	case langRuby:
		for _, name := range []string{spec, strings.Split(spec, "/")[0], strings.ReplaceAll(spec, "/", "-")} {
			if id, _, ok := v.Package("rubygems", name); ok {
				return id, true
			}
		}
	case langJava:
		return s.idx.javaVendor(spec)
	case langPHP:
		first := strings.ToLower(strings.Split(spec, `\`)[0])
		id, ok := s.idx.composer[first]
		return id, ok
	case langSwift:
		if id, _, ok := v.Package("cocoapods", spec); ok {
			return id, true
		}
		return s.idx.brandPrefix(spec)
	case langRust:
		id, _, ok := v.Package("cargo", spec)
		return id, ok
	case langCSharp:
		parts := strings.Split(spec, ".")
		for i := len(parts); i > 0; i-- {
			if id, _, ok := v.Package("nuget", strings.Join(parts[:i], ".")); ok {
				return id, true
			}
		}
	}
	return "", false
}
