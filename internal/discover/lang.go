package discover

import (
	"path"
	"strings"
)

// lang is the language family of a file, which decides how it is read.
type lang string

const (
	langNone   lang = ""
	langJS     lang = "js" // JavaScript, TypeScript, JSX, TSX, Vue, Svelte, Astro
	langPython lang = "python"
	langGo     lang = "go"
	langRuby   lang = "ruby"
	langJava   lang = "java" // Java and Kotlin
	langPHP    lang = "php"
	langSwift  lang = "swift"
	langRust   lang = "rust"
	langCSharp lang = "csharp"
	langHTML   lang = "html"   // HTML and server-side templates
	langConfig lang = "config" // env files, YAML, TOML, JSON, Terraform, nginx and the like
)

var extLang = map[string]lang{
	".js": langJS, ".jsx": langJS, ".mjs": langJS, ".cjs": langJS, ".ts": langJS, ".tsx": langJS,
	".mts": langJS, ".cts": langJS, ".vue": langJS, ".svelte": langJS, ".astro": langJS,
	".py": langPython, ".go": langGo, ".rb": langRuby, ".rake": langRuby,
	".java": langJava, ".kt": langJava, ".kts": langJava, ".scala": langJava, ".groovy": langJava,
	".php": langPHP, ".swift": langSwift, ".rs": langRust, ".cs": langCSharp,
	".m":    langSwift,
	".html": langHTML, ".htm": langHTML, ".erb": langHTML, ".ejs": langHTML, ".hbs": langHTML,
	".handlebars": langHTML, ".jinja": langHTML, ".jinja2": langHTML, ".j2": langHTML, ".njk": langHTML,
	".liquid": langHTML, ".twig": langHTML, ".mustache": langHTML, ".cshtml": langHTML, ".jsp": langHTML,
	".env": langConfig, ".yaml": langConfig, ".yml": langConfig, ".toml": langConfig, ".json": langConfig,
	".tf": langConfig, ".tfvars": langConfig, ".hcl": langConfig, ".ini": langConfig, ".cfg": langConfig,
	".conf": langConfig, ".properties": langConfig, ".xml": langConfig, ".plist": langConfig,
	".sh": langConfig, ".bash": langConfig, ".service": langConfig, ".tpl": langConfig,
}

// fileLang returns the language of a file by its name; langNone for files
// discovery does not read (documentation, images, data).
func fileLang(name string) lang {
	base := path.Base(name)
	lower := strings.ToLower(base)
	switch {
	case lower == ".env" || strings.HasPrefix(lower, ".env.") || strings.HasSuffix(lower, ".env"):
		return langConfig
	case lower == "dockerfile" || strings.HasPrefix(lower, "dockerfile.") || strings.HasSuffix(lower, ".dockerfile"),
		lower == "procfile", lower == "nginx.conf", lower == "_headers", lower == ".htaccess", lower == "caddyfile":
		return langConfig
	case strings.HasSuffix(lower, ".blade.php"):
		return langHTML
	}
	return extLang[path.Ext(lower)]
}

// comments returns the comment syntax of l.
func (l lang) comments() commentStyle {
	switch l {
	case langJS, langGo, langJava, langSwift, langRust, langCSharp:
		return commentsC
	case langPHP:
		return commentsPHP
	case langPython, langRuby:
		return commentsHash
	}
	return commentsNone
}

// code reports whether l is a programming language with SDK calls.
func (l lang) code() bool {
	switch l {
	case langJS, langPython, langGo, langRuby, langJava, langPHP, langSwift, langRust, langCSharp:
		return true
	}
	return false
}

// hasMarkup reports whether files of l may hold HTML script tags.
func hasMarkup(l lang, name string) bool {
	if l == langHTML {
		return true
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jsx", ".tsx", ".vue", ".svelte", ".astro", ".php":
		return true
	}
	return false
}
