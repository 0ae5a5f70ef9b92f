package discover

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// srcWant describes a finding: the vendor and kind, and where set the file
// (a suffix of Evidence.File), the start of Detail and the line.
type srcWant struct {
	vendor string
	kind   Kind
	file   string
	detail string
	line   int
	// cats must all be among the finding's categories; notCats none of them.
	cats    []string
	notCats []string
}

func (w srcWant) String() string {
	s := w.vendor + " " + string(w.kind)
	if w.file != "" {
		s += " in " + w.file
	}
	if w.detail != "" {
		s += " detail " + w.detail + "…"
	}
	if w.line != 0 {
		s += fmt.Sprintf(" line %d", w.line)
	}
	if len(w.cats) > 0 {
		s += " with " + strings.Join(w.cats, ",")
	}
	if len(w.notCats) > 0 {
		s += " without " + strings.Join(w.notCats, ",")
	}
	return s
}

// at reports whether f is the finding w describes, leaving categories out.
// An empty vendor or kind matches any.
func (w srcWant) at(f Finding) bool {
	return (w.vendor == "" || f.Vendor == w.vendor) && (w.kind == "" || f.Kind == w.kind) &&
		(w.file == "" || strings.HasSuffix(f.Evidence.File, w.file)) &&
		(w.detail == "" || strings.HasPrefix(f.Detail, w.detail)) &&
		(w.line == 0 || f.Evidence.Line == w.line)
}

// srcCase is a small project: its files, the findings it must produce and
// the ones it must not (a finding matching a not entry is an error; with
// cats set, only when it carries one of them).
type srcCase struct {
	name  string
	files map[string]string
	want  []srcWant
	not   []srcWant
	// skip, when set, is why the case cannot pass without a change of
	// design.
	skip string
}

func formatFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		var cats []string
		for _, c := range f.Categories {
			cats = append(cats, fmt.Sprintf("%s(%.2f %s)", c.Key, c.Confidence, c.Element))
		}
		fmt.Fprintf(&b, "\n\t%s %s %s %q [%s] %q", f.Vendor, f.Kind, f.Evidence.Ref(), f.Detail, strings.Join(cats, " "), f.Evidence.Snippet)
	}
	return b.String()
}

// runSrcCases runs every case as written and again with CRLF line endings,
// as a Windows checkout (core.autocrlf) has them: the findings must not
// change.
func runSrcCases(t *testing.T, cases []srcCase) {
	t.Helper()
	for _, tc := range cases {
		crlf := tc
		crlf.name += " (CRLF)"
		crlf.files = map[string]string{}
		for p, content := range tc.files {
			crlf.files[p] = strings.ReplaceAll(content, "\n", "\r\n")
		}
		runSrcCase(t, tc)
		runSrcCase(t, crlf)
	}
}

func runSrcCase(t *testing.T, tc srcCase) {
	t.Helper()
	{
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip("known limitation: " + tc.skip)
			}
			root := t.TempDir()
			writeTree(t, root, tc.files)
			r := scanDir(t, Options{}, root)
			failed := false
			for _, w := range tc.want {
				ok := slices.ContainsFunc(r.Findings, func(f Finding) bool {
					if !w.at(f) {
						return false
					}
					for _, c := range w.cats {
						if !hasCategory(f, c) {
							return false
						}
					}
					for _, c := range w.notCats {
						if hasCategory(f, c) {
							return false
						}
					}
					return true
				})
				if !ok {
					t.Errorf("missing: %s", w)
					failed = true
				}
			}
			for _, n := range tc.not {
				for _, f := range r.Findings {
					if !n.at(f) {
						continue
					}
					if len(n.cats) == 0 || slices.ContainsFunc(n.cats, func(c string) bool { return hasCategory(f, c) }) {
						t.Errorf("unwanted: %s %s %s %q %v", f.Vendor, f.Kind, f.Evidence.Ref(), f.Detail, f.Categories)
						failed = true
					}
				}
			}
			if failed {
				t.Logf("findings:%s", formatFindings(r.Findings))
			}
		})
	}
}

const (
	catEmail    = "user.contact.email"
	catName     = "user.name"
	catPhone    = "user.contact.phone_number"
	catUniqueID = "user.unique_id"
	catIP       = "user.device.ip_address"
)

func TestSourceJavaScript(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "mixpanel people.set",
			files: map[string]string{
				"package.json": `{"name": "web", "dependencies": {"mixpanel-browser": "^2.55.0"}}`,
				"src/analytics.js": `import mixpanel from 'mixpanel-browser'

mixpanel.init(process.env.NEXT_PUBLIC_MIXPANEL_TOKEN)

export function identify(user) {
  mixpanel.people.set({ $email: user.email, $name: user.fullName })
}
`,
			},
			want: []srcWant{
				{vendor: "mixpanel", kind: KindDependency, file: "package.json"},
				{vendor: "mixpanel", kind: KindSDKInit, file: "src/analytics.js", line: 1},
				{vendor: "mixpanel", kind: KindDataSend, file: "src/analytics.js", line: 6, detail: "mixpanel.people.set", cats: []string{catEmail, catName}},
			},
		},
		{
			name: "sentry setUser through require",
			files: map[string]string{
				"server/sentry.js": `const Sentry = require('@sentry/node')

Sentry.init({ dsn: process.env.SENTRY_DSN })

function onLogin(user) {
  Sentry.setUser({ id: user.id, email: user.email })
}

module.exports = { onLogin }
`,
			},
			want: []srcWant{
				{vendor: "sentry", kind: KindSDKInit, line: 1, detail: "import @sentry/node"},
				{vendor: "sentry", kind: KindSDKInit, line: 3},
				{vendor: "sentry", kind: KindDataSend, line: 6, detail: "Sentry.setUser", cats: []string{catUniqueID, catEmail}},
				{vendor: "sentry", kind: KindConfigKey, detail: "SENTRY_DSN"},
			},
		},
		{
			name: "intercom through the window global with optional call",
			files: map[string]string{
				"src/support.ts": `export function updateMessenger(u: User): void {
  window.Intercom?.('update', { email: u.email })
}
`,
			},
			want: []srcWant{{vendor: "intercom", kind: KindDataSend, line: 2, cats: []string{catEmail}}},
		},
		{
			name: "posthog identify with a shorthand property",
			files: map[string]string{
				"src/auth.tsx": `import posthog from 'posthog-js'

export function onLogin(user: User) {
  const { email } = user
  posthog.identify(user.id, { email })
}
`,
			},
			want: []srcWant{{vendor: "posthog", kind: KindDataSend, line: 5, detail: "posthog.identify", cats: []string{catEmail, catUniqueID}}},
		},
		{
			name: "fetch to a vendor the catalog does not know",
			files: map[string]string{
				"src/metrics.js": `export async function report(u) {
  await fetch('https://api.tinymetrics.io/v1/e', {method: 'POST', body: JSON.stringify({email: u.email})})
}
`,
			},
			want: []srcWant{{vendor: "domain:tinymetrics.io", kind: KindEndpoint, line: 2, detail: "api.tinymetrics.io", cats: []string{catEmail}}},
		},
		{
			name: "an SDK object exported by one module and used in another",
			files: map[string]string{
				"src/lib/segment.ts": `import { Analytics } from '@segment/analytics-node'

export const analytics = new Analytics({ writeKey: process.env.SEGMENT_WRITE_KEY! })
`,
				"src/routes/signup.ts": `import { analytics } from '../lib/segment'

export async function signup(user: User) {
  analytics.identify({ userId: user.id, traits: { email: user.email, name: user.name } })
}
`,
			},
			want: []srcWant{
				{vendor: "segment", kind: KindSDKInit, file: "src/lib/segment.ts", line: 3},
				{vendor: "segment", kind: KindDataSend, file: "src/routes/signup.ts", line: 4, cats: []string{catEmail, catName}},
			},
		},
		{
			name: "a call in a comment, without an import, is not a data flow",
			files: map[string]string{
				"src/notes.js": `// mixpanel.track('x', {email})
/* mixpanel.people.set({ $email: user.email })
   Sentry.setUser({ email: user.email }) */
export const a = 1
`,
			},
			not: []srcWant{{kind: KindDataSend}, {kind: KindSDKInit}},
		},
		{
			name: "a local module named analytics is not Segment",
			files: map[string]string{
				"src/page.js": `import analytics from './lib/analytics'

export function view(user) {
  analytics.track('Viewed', { email: user.email })
}
`,
				"src/lib/analytics.js": `export default { track(name, props) { console.log(name, props) } }
`,
			},
			not: []srcWant{{vendor: "segment"}},
		},
		{
			name: "anonymize_ip: true is a setting, not an IP address",
			files: map[string]string{
				"src/ga.js": `export function setup(id) {
  gtag('config', id, { anonymize_ip: true, send_page_view: false })
}
`,
			},
			want: []srcWant{{vendor: "google-analytics", kind: KindDataSend, line: 2, notCats: []string{catIP}}},
			not:  []srcWant{{cats: []string{catIP}}},
		},
	})
}

func TestSourcePython(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "sentry_sdk.init with send_default_pii",
			files: map[string]string{
				"requirements.txt": "Django==5.0.1\nsentry-sdk==2.0.0\n",
				"app/settings.py": `import os

import sentry_sdk

sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], send_default_pii=True, traces_sample_rate=0.1)
`,
			},
			want: []srcWant{
				{vendor: "sentry", kind: KindDependency, file: "requirements.txt"},
				{vendor: "sentry", kind: KindSDKInit, file: "app/settings.py", line: 5, cats: []string{catIP}},
			},
		},
		{
			name: "send_default_pii=False collects no IP",
			files: map[string]string{
				"app/settings.py": "import sentry_sdk\n\nsentry_sdk.init(dsn=DSN, send_default_pii=False)\n",
			},
			want: []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 3}},
			not:  []srcWant{{cats: []string{catIP}}},
		},
		{
			name: "segment identify",
			files: map[string]string{
				"app/tracking.py": `import analytics

analytics.write_key = WRITE_KEY


def on_signup(user):
    analytics.identify(user.id, {'email': user.email, 'phone': user.phone})
`,
			},
			want: []srcWant{{vendor: "segment", kind: KindDataSend, line: 7, detail: "analytics.identify", cats: []string{catUniqueID, catEmail, catPhone}}},
		},
		{
			name: "stripe Customer.create with keyword arguments",
			files: map[string]string{
				"billing/customers.py": `import stripe


def create_customer(u):
    return stripe.Customer.create(email=u.email, name=u.name)
`,
			},
			want: []srcWant{{vendor: "stripe", kind: KindDataSend, line: 5, detail: "stripe.Customer.create", cats: []string{catEmail, catName}}},
		},
		{
			name: "from sentry_sdk import set_user",
			files: map[string]string{
				"app/auth.py": `from sentry_sdk import set_user


def on_login(request, user):
    set_user({"id": user.id, "email": user.email, "ip_address": request.META["REMOTE_ADDR"]})
`,
			},
			want: []srcWant{{vendor: "sentry", kind: KindDataSend, line: 5, cats: []string{catUniqueID, catEmail, catIP}}},
		},
		{
			name: "consecutive from-imports",
			files: map[string]string{
				"app/sync.py": `from sentry_sdk import set_user
from stripe import Customer


def sync(u):
    set_user({"email": u.email})
    Customer.create(email=u.email)
`,
			},
			want: []srcWant{
				{vendor: "sentry", kind: KindSDKInit, line: 1},
				{vendor: "stripe", kind: KindSDKInit, line: 2},
				{vendor: "sentry", kind: KindDataSend, line: 6, cats: []string{catEmail}},
				{vendor: "stripe", kind: KindDataSend, line: 7, cats: []string{catEmail}},
			},
		},
		{
			name: "an aliased import",
			files: map[string]string{
				"app/obs.py": "import sentry_sdk as sentry\n\n\ndef tag(user):\n    sentry.set_user({'email': user.email})\n",
			},
			want: []srcWant{{vendor: "sentry", kind: KindDataSend, line: 5, cats: []string{catEmail}}},
		},
		{
			name: "requests.post to a vendor the catalog does not know",
			files: map[string]string{
				"app/metrics.py": `import requests


def report(u):
    requests.post("https://api.tinymetrics.io/v1/e", json={"email": u.email, "plan": u.plan})
`,
			},
			want: []srcWant{{vendor: "domain:tinymetrics.io", kind: KindEndpoint, line: 5, cats: []string{catEmail}}},
		},
		{
			name: "a commented-out call is not a data flow",
			files: map[string]string{
				"app/x.py": "import os\n# import analytics\n# analytics.identify(user.id, {'email': user.email})\n",
			},
			not: []srcWant{{vendor: "segment"}},
		},
		{
			name: "REDIS_URL names no vendor",
			files: map[string]string{
				"app/cache.py": "import os\n\nREDIS_URL = os.environ.get('REDIS_URL', 'redis://localhost:6379/0')\n",
			},
			not: []srcWant{{}},
		},
	})
}

func TestSourceGo(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "stripe-go CustomerParams",
			files: map[string]string{
				"go.mod": "module example.com/billing\n\ngo 1.22\n\nrequire github.com/stripe/stripe-go/v76 v76.25.0\n",
				"billing/customer.go": `package billing

import (
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/customer"
)

func CreateCustomer(u User) (*stripe.Customer, error) {
	params := &stripe.CustomerParams{
		Email: stripe.String(u.Email),
		Name:  stripe.String(u.Name),
	}
	return customer.New(params)
}
`,
			},
			want: []srcWant{
				{vendor: "stripe", kind: KindDependency, file: "go.mod"},
				{vendor: "stripe", kind: KindDataSend, file: "billing/customer.go", line: 9, detail: "stripe.CustomerParams", cats: []string{catEmail, catName}},
			},
			// The import lines name github.com: they are packages, not
			// endpoints.
			not: []srcWant{{vendor: "github"}, {kind: KindEndpoint}},
		},
		{
			name: "sentry.User literal",
			files: map[string]string{
				"internal/obs/user.go": `package obs

import (
	"net/http"

	"github.com/getsentry/sentry-go"
)

func Identify(r *http.Request, u User) {
	sentry.ConfigureScope(func(scope *sentry.Scope) {
		scope.SetUser(sentry.User{ID: u.ID, Email: u.Email, IPAddress: r.RemoteAddr})
	})
}
`,
			},
			want: []srcWant{{vendor: "sentry", kind: KindDataSend, line: 11, detail: "sentry.User", cats: []string{catUniqueID, catEmail, catIP}}},
		},
		{
			name: "an aliased Go import",
			files: map[string]string{
				"internal/obs/user.go": `package obs

import sentrygo "github.com/getsentry/sentry-go"

func User(u Account) sentrygo.User {
	return sentrygo.User{Email: u.Email, Username: u.Login}
}
`,
			},
			want: []srcWant{{vendor: "sentry", kind: KindDataSend, line: 6, detail: "sentrygo.User", cats: []string{catEmail}}},
		},
		{
			name: "segment Identify with NewTraits setters",
			files: map[string]string{
				"internal/track/segment.go": `package track

import "github.com/segmentio/analytics-go/v3"

func Identify(client analytics.Client, u User) error {
	return client.Enqueue(analytics.Identify{
		UserId: u.ID,
		Traits: analytics.NewTraits().SetEmail(u.Email).SetName(u.Name),
	})
}
`,
			},
			want: []srcWant{{vendor: "segment", kind: KindDataSend, line: 6, detail: "analytics.Identify", cats: []string{catEmail, catName}}},
		},
		{
			name: "import paths on other hosts are not endpoints",
			files: map[string]string{
				"cmd/tool/main.go": `package main

import (
	"fmt"

	"github.com/acme/platform/internal/auth"
	"gitlab.com/acme/lib/v2"
	x "go.acme-corp.io/kit/log"
	_ "golang.org/x/net/http2"
	"bitbucket.org/acme/util"
)

func main() { fmt.Println(auth.X, lib.Y, x.Z, util.W) }
`,
			},
			not: []srcWant{{kind: KindEndpoint}, {kind: KindSDKInit}, {kind: KindDataSend}},
		},
	})
}

func TestSourceRuby(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "a constant bound in an initializer, used in a model",
			files: map[string]string{
				"Gemfile": "source 'https://rubygems.org'\n\ngem 'rails', '~> 7.1'\ngem 'mixpanel-ruby'\n",
				"config/initializers/mixpanel.rb": `require 'mixpanel-ruby'

MIXPANEL = Mixpanel::Tracker.new(ENV['MIXPANEL_TOKEN'])
`,
				"app/models/user.rb": `class User < ApplicationRecord
  after_commit :sync_profile, on: :create

  def sync_profile
    MIXPANEL.people.set(user.id, {'$email' => user.email})
  end
end
`,
			},
			want: []srcWant{
				{vendor: "mixpanel", kind: KindDependency, file: "Gemfile"},
				{vendor: "mixpanel", kind: KindSDKInit, file: "config/initializers/mixpanel.rb", line: 3},
				{vendor: "mixpanel", kind: KindConfigKey, file: "config/initializers/mixpanel.rb", detail: "MIXPANEL_TOKEN"},
				{vendor: "mixpanel", kind: KindDataSend, file: "app/models/user.rb", line: 5, detail: "MIXPANEL.people.set", cats: []string{catEmail, catUniqueID}},
			},
		},
		{
			// Rails loads the gems of the Gemfile itself (Bundler.require):
			// an initializer names the SDK without requiring it.
			name: "a constant bound in an initializer without require",
			files: map[string]string{
				"Gemfile":                         "source 'https://rubygems.org'\n\ngem 'rails', '~> 7.1'\ngem 'mixpanel-ruby'\n",
				"config/initializers/tracking.rb": "TRACKER = Mixpanel::Tracker.new(ENV['MIXPANEL_TOKEN'])\n",
				"app/models/user.rb": `class User < ApplicationRecord
  def sync_profile
    TRACKER.people.set(id, {'$email' => email})
  end
end
`,
			},
			want: []srcWant{
				{vendor: "mixpanel", kind: KindSDKInit, file: "config/initializers/tracking.rb", line: 1},
				{vendor: "mixpanel", kind: KindDataSend, file: "app/models/user.rb", line: 3, detail: "TRACKER.people.set", cats: []string{catEmail}},
			},
		},
		{
			name: "Sentry.set_user with sentry-ruby in the Gemfile",
			files: map[string]string{
				"Gemfile": "source 'https://rubygems.org'\n\ngem 'sentry-ruby'\ngem 'sentry-rails'\n",
				"app/controllers/application_controller.rb": `class ApplicationController < ActionController::Base
  before_action :set_sentry_user

  private

  def set_sentry_user
    Sentry.set_user(id: current_user.id, email: current_user.email)
  end
end
`,
			},
			want: []srcWant{
				{vendor: "sentry", kind: KindDependency, file: "Gemfile"},
				{vendor: "sentry", kind: KindDataSend, line: 7, detail: "Sentry.set_user", cats: []string{catUniqueID, catEmail}},
			},
		},
	})
}

func TestSourceKotlin(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "amplitude track with mapOf",
			files: map[string]string{
				"app/src/main/java/com/example/Tracker.kt": `package com.example

import android.content.Context
import com.amplitude.android.Amplitude
import com.amplitude.android.Configuration

class Tracker(context: Context) {
    val amplitude = Amplitude(Configuration(apiKey = BuildConfig.AMPLITUDE_KEY, context = context))

    fun signup(user: User) {
        amplitude.track("Signed Up", mapOf("email" to user.email))
    }
}
`,
			},
			want: []srcWant{
				{vendor: "amplitude", kind: KindSDKInit, line: 8},
				{vendor: "amplitude", kind: KindDataSend, line: 11, detail: "amplitude.track", cats: []string{catEmail}},
			},
		},
		{
			name: "braze currentUser setEmail",
			files: map[string]string{
				"app/src/main/java/com/example/Login.kt": `package com.example

import android.content.Context
import com.braze.Braze

fun onLogin(ctx: Context, user: User) {
    Braze.getInstance(ctx).changeUser(user.id)
    Braze.getInstance(ctx).currentUser?.setEmail(user.email)
}
`,
			},
			want: []srcWant{
				{vendor: "braze", kind: KindSDKInit, line: 4},
				{vendor: "braze", kind: KindDataSend, line: 8, cats: []string{catEmail}},
			},
		},
	})
}

func TestSourcePHP(t *testing.T) {
	runSrcCases(t, []srcCase{{
		name: "StripeClient customers->create",
		files: map[string]string{
			"composer.json": `{"require": {"php": "^8.2", "stripe/stripe-php": "^13.0"}}`,
			"src/Billing.php": `<?php

namespace App;

use Stripe\StripeClient;

final class Billing
{
    public function createCustomer(User $u, string $key): void
    {
        $stripe = new StripeClient($key);
        $stripe->customers->create(['email' => $u->email, 'name' => $u->name]);
    }
}
`,
		},
		want: []srcWant{
			{vendor: "stripe", kind: KindDependency, file: "composer.json"},
			{vendor: "stripe", kind: KindSDKInit, file: "src/Billing.php", line: 11},
			{vendor: "stripe", kind: KindDataSend, file: "src/Billing.php", line: 12, cats: []string{catEmail, catName}},
		},
	}})
}

func TestSourceSwift(t *testing.T) {
	runSrcCases(t, []srcCase{{
		name: "Mixpanel mainInstance people.set",
		files: map[string]string{
			"App/Analytics.swift": `import Foundation
import Mixpanel

func identify(user: User) {
    Mixpanel.mainInstance().identify(distinctId: user.id)
    Mixpanel.mainInstance().people.set(properties: ["$email": user.email])
}
`,
		},
		want: []srcWant{
			{vendor: "mixpanel", kind: KindSDKInit, line: 2},
			{vendor: "mixpanel", kind: KindDataSend, line: 6, cats: []string{catEmail}},
		},
	}})
}

func TestSourceHTML(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "gtag snippet with a user id",
			files: map[string]string{
				"templates/base.html": `<!doctype html>
<html>
<head>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script><script>gtag('config','G-1',{user_id: '{{ user.id }}'})</script>
</head>
<body>
<p>Payments by <a href="https://stripe.com/docs">Stripe</a>.</p>
<link rel="preconnect" href="https://api.segment.io">
</body>
</html>
`,
			},
			want: []srcWant{
				{vendor: "google-analytics", kind: KindSnippet, line: 4, detail: "script www.googletagmanager.com"},
				{vendor: "google-analytics", kind: KindSnippet, line: 4, detail: "inline script", cats: []string{catUniqueID}},
			},
			// Links for people to click are not data flows.
			not: []srcWant{{vendor: "stripe"}, {vendor: "segment"}},
		},
		{
			name: "anonymize_ip in an inline snippet",
			files: map[string]string{
				"public/index.html": `<script async src="https://www.googletagmanager.com/gtag/js?id=G-2"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-2', { anonymize_ip: true });
</script>
`,
			},
			want: []srcWant{{vendor: "google-analytics", kind: KindSnippet, detail: "inline script"}},
			not:  []srcWant{{cats: []string{catIP}}},
		},
	})
}

func TestSourceConfig(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name: "env example keys",
			files: map[string]string{
				".env.example": "NEXT_PUBLIC_MIXPANEL_TOKEN=\nDATADOG_API_KEY=\nREDIS_URL=redis://localhost:6379\nDATABASE_URL=postgres://localhost/app\n",
			},
			want: []srcWant{
				{vendor: "mixpanel", kind: KindConfigKey, line: 1, detail: "NEXT_PUBLIC_MIXPANEL_TOKEN"},
				{vendor: "datadog", kind: KindConfigKey, line: 2, detail: "DATADOG_API_KEY"},
			},
			not: []srcWant{{line: 3}, {line: 4}},
		},
		{
			name: "nginx content security policy",
			files: map[string]string{
				"deploy/nginx.conf": `server {
    listen 443 ssl;
    add_header Content-Security-Policy "script-src 'self' https://cdn.mxpnl.com; connect-src https://api-js.mixpanel.com";
}
`,
			},
			want: []srcWant{{vendor: "mixpanel", kind: KindEndpoint, line: 3, detail: "csp "}},
		},
		{
			name: "terraform providers and resources",
			files: map[string]string{
				"infra/main.tf": `terraform {
  required_providers {
    datadog = {
      source = "DataDog/datadog"
    }
  }
}

provider "datadog" {}

resource "sentry_project" "x" {}
`,
			},
			want: []srcWant{
				{vendor: "datadog", kind: KindConfigKey, detail: "terraform datadog"},
				{vendor: "sentry", kind: KindConfigKey, line: 11, detail: "terraform sentry"},
			},
		},
		{
			name: "REDIS_URL in YAML names no vendor",
			files: map[string]string{
				"docker-compose.yml": "services:\n  web:\n    environment:\n      REDIS_URL: redis://redis:6379\n      LOG_LEVEL: info\n",
			},
			not: []srcWant{{}},
		},
	})
}

// TestSourceImportLines: an import is reported on its own line, whatever
// comes before it (a blank line, a comment, another import).
func TestSourceImportLines(t *testing.T) {
	runSrcCases(t, []srcCase{
		{
			name:  "kotlin import after a blank line",
			files: map[string]string{"app/Login.kt": "package com.example\n\nimport com.braze.Braze\n"},
			want:  []srcWant{{vendor: "braze", kind: KindSDKInit, line: 3, detail: "import com.braze.Braze"}},
		},
		{
			name:  "java import after a blank line",
			files: map[string]string{"app/Obs.java": "package com.example;\n\nimport io.sentry.Sentry;\n"},
			want:  []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 3, detail: "import io.sentry"}},
		},
		{
			name:  "ruby require after a magic comment",
			files: map[string]string{"lib/obs.rb": "# frozen_string_literal: true\n\nrequire 'sentry-ruby'\n"},
			want:  []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 3, detail: "import sentry-ruby"}},
		},
		{
			name:  "php use after the open tag",
			files: map[string]string{"src/Billing.php": "<?php\n\nuse Stripe\\StripeClient;\n"},
			want:  []srcWant{{vendor: "stripe", kind: KindSDKInit, line: 3}},
		},
		{
			name:  "swift import after a header comment",
			files: map[string]string{"App/Analytics.swift": "//\n//  Analytics.swift\n//\n\nimport Mixpanel\n"},
			want:  []srcWant{{vendor: "mixpanel", kind: KindSDKInit, line: 5}},
		},
		{
			name:  "c# using after a blank line",
			files: map[string]string{"src/Obs.cs": "using System;\n\nusing Sentry;\n"},
			want:  []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 3}},
		},
		{
			name:  "rust use after a blank line",
			files: map[string]string{"src/main.rs": "//! Service.\n\nuse sentry;\n"},
			want:  []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 3}},
		},
		{
			name:  "go import block",
			files: map[string]string{"obs/obs.go": "package obs\n\nimport (\n\t\"context\"\n\n\t\"github.com/getsentry/sentry-go\"\n)\n"},
			want:  []srcWant{{vendor: "sentry", kind: KindSDKInit, line: 6}},
		},
	})
}

// TestSourceGoStringsAreNotImports: a Go string on a line of its own (in
// a slice literal, after return or case) is not an import, so a vendor
// host in it is an endpoint.
func TestSourceGoStringsAreNotImports(t *testing.T) {
	runSrcCases(t, []srcCase{{
		name: "scheme-less hosts in Go strings",
		files: map[string]string{"internal/relay/hosts.go": `package relay

var trackHosts = []string{
	"api.mixpanel.com/track",
	"api.segment.io/v1/batch",
}

func host(v string) string {
	switch v {
	case "amplitude":
		return "api2.amplitude.com/2/httpapi"
	}
	return ""
}
`},
		want: []srcWant{
			{vendor: "mixpanel", kind: KindEndpoint, line: 4},
			{vendor: "segment", kind: KindEndpoint, line: 5},
			{vendor: "amplitude", kind: KindEndpoint, line: 11},
		},
	}})
}

// TestSourceFirstParty: hosts of the organisation itself are never vendors.
func TestSourceFirstParty(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"src/api.js": `export const post = (u) => fetch('https://api.acme.io/v1/users', {method: 'POST', body: JSON.stringify({email: u.email})})
export const cdn = 'https://static.acme.io/app.js'
export const other = fetch('https://api.tinymetrics.io/v1/e', {method: 'POST'})
`,
	})
	r, err := NewScanner(catalog.Default(), taxonomy.DefaultClassifier(), []string{"acme.io"}, Options{}).Scan(t.Context(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	var vendors []string
	for _, f := range r.Findings {
		vendors = append(vendors, f.Vendor)
	}
	if want := []string{"domain:tinymetrics.io"}; !slices.Equal(vendors, want) {
		t.Errorf("vendors %v, want %v:%s", vendors, want, formatFindings(r.Findings))
	}
}
