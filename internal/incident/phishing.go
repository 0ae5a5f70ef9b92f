package incident

import (
	"strings"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// PhishingAdvice is one block of anti-phishing guidance for the people
// letter: a short topic and a few plain sentences.
type PhishingAdvice struct {
	Topic  string   `json:"topic"`
	Points []string `json:"points"`
}

// phishingRule ties taxonomy categories to what a criminal can do with them
// (Consequence, written for a regulator and the internal brief) and what a
// person can do about it (Points, written for the people letter).
//
// A rule applies when an exposed category overlaps one of its prefixes: an
// exposed user.contact brings in the email, phone and postal rules, and an
// exposed user.location.imprecise brings in the location rule. In the text,
// {org} is our name and {vendor} the breached vendor's.
type phishingRule struct {
	Prefixes    []string
	Topic       string
	Points      []string
	Consequence string
}

var phishingRules = []phishingRule{
	{
		Prefixes: []string{"user.contact.email"},
		Topic:    "Emails",
		Points: []string{
			"Expect emails that pretend to come from {org} or from {vendor}, and that may mention this incident. Criminals often use news of a breach as a pretext.",
			"We will never ask for your password, API key, one-time code or payment details by email, chat or phone.",
			"Do not open links or attachments in an unexpected message about your account. Reach us by typing our website name into your browser yourself.",
		},
		Consequence: "Targeted phishing emails that impersonate {org} or {vendor}, made more convincing by knowing that the recipient is our user.",
	},
	{
		Prefixes: []string{"user.name"},
		Topic:    "Your name",
		Points: []string{
			"A message that uses your name is not proof that it comes from us: criminals may now know your name.",
		},
		Consequence: "Personalised messages that use people's names to appear genuine.",
	},
	{
		Prefixes: []string{"user.contact.phone_number"},
		Topic:    "Text messages and calls",
		Points: []string{
			"Expect text messages and calls that pretend to come from us or from {vendor}. We will never ask you to read out a verification code or to install software.",
			"If a call or text about your account worries you, hang up and contact us using the details in this letter, not the number or link in the message.",
		},
		Consequence: "Fraudulent text messages (smishing) and phone calls (vishing) impersonating {org} or {vendor}.",
	},
	{
		Prefixes: []string{"user.contact.address"},
		Topic:    "Post",
		Points: []string{
			"Be careful with letters that ask you to call a number or pay a fee. Check the number against this letter before you call.",
		},
		Consequence: "Fraudulent letters sent to people's postal addresses.",
	},
	{
		Prefixes: []string{"user.location", "user.device", "user.behavior.referrer", "user.behavior.browsing_history"},
		Topic:    "Details about your location, browser and device",
		Points: []string{
			"A message may mention your city, the browser or device you use, or how you found us, to seem credible. Knowing these details does not make a sender genuine.",
		},
		Consequence: "More credible social engineering: an attacker can mention a person's approximate location, browser or device, or how they found us.",
	},
	{
		Prefixes: []string{"user.unique_id", "user.account.username"},
		Topic:    "Account identifiers",
		Points: []string{
			"Someone who quotes your user ID or username is not necessarily from us. These identifiers do not let anyone sign in to your account.",
		},
		Consequence: "Account identifiers can link this data to other leaked datasets and make impersonation more convincing; on their own they do not give access to accounts.",
	},
	{
		Prefixes: []string{"user.contact.organization", "user.workplace"},
		Topic:    "Your workplace",
		Points: []string{
			"Messages to you at work may pretend to come from colleagues, suppliers or us. Confirm requests for payments or credentials through a channel you already know.",
		},
		Consequence: "Targeted attacks on people's employers (business email compromise).",
	},
	{
		Prefixes: []string{"user.authorization"},
		Topic:    "Passwords and keys",
		Points: []string{
			"Change your password for our service, and anywhere else you used the same password. Replace any API keys or tokens.",
			"Turn on multi-factor authentication where it is offered.",
		},
		Consequence: "Account takeover using the exposed credentials, on our service and on any other service where people reused them.",
	},
	{
		Prefixes: []string{"user.financial"},
		Topic:    "Payment cards and bank accounts",
		Points: []string{
			"Check your card and bank statements for payments you do not recognise, and tell your bank straight away if you find any.",
			"Your bank can replace your card if you are worried.",
		},
		Consequence: "Fraudulent payments and targeted financial scams.",
	},
	{
		Prefixes: []string{"user.government_id"},
		Topic:    "Identity numbers",
		Points: []string{
			"Consider placing a fraud alert or a credit freeze with the credit reporting agencies, so that nobody can open credit in your name.",
			"Check your credit reports for accounts you did not open.",
		},
		Consequence: "Identity theft: credit or accounts opened in people's names.",
	},
	{
		Prefixes: []string{"user.demographic.date_of_birth"},
		Topic:    "Date of birth",
		Points: []string{
			"If you use your date of birth to answer security questions anywhere, change those answers.",
		},
		Consequence: "Answers to security questions and more convincing impersonation.",
	},
	{
		Prefixes: []string{"user.health_and_medical"},
		Topic:    "Health information",
		Points: []string{
			"Check statements from your health insurer for treatment you did not receive.",
		},
		Consequence: "Medical identity fraud, embarrassment or discrimination.",
	},
}

// phishingGeneral is always given, whatever was exposed.
var phishingGeneral = PhishingAdvice{
	Topic: "In general",
	Points: []string{
		"Be wary of any message that is urgent, threatening or too good to be true, even if it looks like it comes from us.",
		"Never share one-time codes or passwords with anyone who contacts you.",
		"If you are unsure whether a message is really from us, do not reply to it: contact us using the details in this letter.",
	},
}

func phishingApplies(r phishingRule, categories []string) bool {
	for _, p := range r.Prefixes {
		for _, c := range categories {
			if taxonomy.Overlaps(p, c) {
				return true
			}
		}
	}
	return false
}

func phishingFill(s, org, vendor string) string {
	if org == "" {
		org = "us"
	}
	if vendor == "" {
		vendor = "our service provider"
	}
	return strings.NewReplacer("{org}", org, "{vendor}", vendor).Replace(s)
}

// PhishingGuidance returns the anti-phishing advice for people whose data
// in the given taxonomy categories was exposed, most specific first and the
// general block last. org and vendor are the names criminals will pretend
// to be.
func PhishingGuidance(categories []string, org, vendor string) []PhishingAdvice {
	var out []PhishingAdvice
	for _, r := range phishingRules {
		if !phishingApplies(r, categories) {
			continue
		}
		a := PhishingAdvice{Topic: r.Topic}
		for _, p := range r.Points {
			a.Points = append(a.Points, phishingFill(p, org, vendor))
		}
		out = append(out, a)
	}
	g := PhishingAdvice{Topic: phishingGeneral.Topic, Points: append([]string(nil), phishingGeneral.Points...)}
	return append(out, g)
}

// LikelyConsequences returns what criminals could do with data in the given
// categories, in the words of the regulator letter (GDPR Art. 33(3)(c)).
func LikelyConsequences(categories []string, org, vendor string) []string {
	var out []string
	for _, r := range phishingRules {
		if phishingApplies(r, categories) {
			out = append(out, phishingFill(r.Consequence, org, vendor))
		}
	}
	return out
}

// packPeopleWords explains a category to the people it is about, where the
// taxonomy's own description is written for engineers. The taxonomy name
// stays the label; this is the explanation after it.
var packPeopleWords = map[string]string{
	"user.name":                          "the name you gave us",
	"user.name.first":                    "your first name",
	"user.name.last":                     "your last name",
	"user.contact":                       "how to reach you, such as an email address or phone number",
	"user.contact.email":                 "the email address you gave us",
	"user.contact.phone_number":          "the phone number you gave us",
	"user.contact.address":               "your postal address",
	"user.contact.url":                   "a personal website or social media profile",
	"user.contact.organization":          "the organization your account belongs to",
	"user.unique_id":                     "the identifier our systems use for your account",
	"user.unique_id.pseudonymous":        "a random identifier that cannot be linked to you without a separate key",
	"user.account.username":              "your username",
	"user.location":                      "where you are",
	"user.location.imprecise":            "your approximate location (city, region and country), not your street address",
	"user.location.precise":              "your precise location",
	"user.device":                        "information about the device you used",
	"user.device.ip_address":             "the internet address of your device or network",
	"user.device.device_id":              "an identifier of your device or app installation",
	"user.device.cookie_id":              "an identifier stored in your browser",
	"user.device.user_agent":             "the browser, operating system and type of device you used",
	"user.device.advertising_id":         "advertising and click identifiers of your device",
	"user.behavior.browsing_history":     "pages you visited on our website",
	"user.behavior.referrer":             "the website that referred you to us, and campaign tags in the link you followed",
	"user.behavior.purchase_history":     "what you bought from us",
	"user.behavior.search_history":       "what you searched for on our service",
	"user.content.private":               "messages, files or text you wrote",
	"user.financial.credit_card":         "your payment card details",
	"user.financial.bank_account":        "your bank account details",
	"user.authorization.credentials":     "passwords, API keys or session tokens",
	"user.demographic.date_of_birth":     "your date of birth",
	"user.health_and_medical":            "information about your health",
	"user.government_id":                 "a government identity number",
	"user.workplace":                     "your employer or job title",
	"user.privacy_preferences":           "the privacy choices you made",
	"user.account.settings":              "your account preferences, plan and language",
	"user.behavior":                      "how you used our service",
	"user.telemetry":                     "technical information about how you used our service",
	"user.government_id.passport_number": "your passport number",
}

// packNotInvolved are the kinds of data people worry about most. When none
// of a group's categories was exposed, the people letter says so.
var packNotInvolved = []struct{ Prefix, Words string }{
	{"user.authorization", "passwords or other credentials"},
	{"user.financial", "payment card or bank details"},
	{"user.government_id", "government identity numbers such as Social Security or passport numbers"},
}
