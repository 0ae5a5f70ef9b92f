package discover

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// benchScan scans roots b.N times, reporting the bytes scanned per second.
// Every iteration builds a new Scanner, as the CLI does for a run: a
// Scanner keeps what it learnt (vendors present, bound names) between
// scans.
func benchScan(b *testing.B, opts Options, roots ...string) {
	b.Helper()
	b.ReportAllocs()
	first := true
	for b.Loop() {
		r, err := newTestScanner(opts).Scan(context.Background(), roots)
		if err != nil {
			b.Fatal(err)
		}
		if first {
			if r.Stats.Bytes == 0 || len(r.Findings) == 0 {
				b.Fatalf("nothing scanned: %+v, %d findings", r.Stats, len(r.Findings))
			}
			b.SetBytes(r.Stats.Bytes)
			b.ReportMetric(float64(r.Stats.Files), "files/op")
			first = false
		}
	}
}

// BenchmarkScanCorpus scans every app of the labelled corpus in one run.
func BenchmarkScanCorpus(b *testing.B) {
	benchScan(b, Options{Exclude: []string{"truth.yaml"}}, filepath.Join("testdata", "corpus"))
}

// BenchmarkScanLargeTree scans a generated monorepo of about 2,000 source
// files (about 20 MB) in JavaScript, Python and Go, each with imports, SDK
// calls and a lot of ordinary code around them.
func BenchmarkScanLargeTree(b *testing.B) {
	root := b.TempDir()
	genLargeTree(b, root, 2000, 10<<10)
	benchScan(b, Options{}, root)
}

// genLargeTree writes n source files of about size bytes each under root,
// with the manifests that declare their SDKs.
func genLargeTree(b *testing.B, root string, n, size int) {
	b.Helper()
	writeTree(b, root, map[string]string{
		"web/package.json":        `{"name": "web", "dependencies": {"mixpanel-browser": "^2.55.0", "@sentry/browser": "^8.0.0", "posthog-js": "^1.100.0"}}`,
		"api/requirements.txt":    "Django==5.0.1\nsentry-sdk==2.0.0\nsegment-analytics-python==2.3.2\nstripe==8.0.0\n",
		"svc/go.mod":              "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/getsentry/sentry-go v0.27.0\n\tgithub.com/stripe/stripe-go/v76 v76.25.0\n)\n",
		"web/.env.example":        "NEXT_PUBLIC_MIXPANEL_TOKEN=\nNEXT_PUBLIC_SENTRY_DSN=\n",
		"deploy/nginx/nginx.conf": "add_header Content-Security-Policy \"script-src 'self' https://cdn.mxpnl.com\";\n",
	})
	for i := range n {
		var path, body string
		switch i % 3 {
		case 0:
			path = fmt.Sprintf("web/src/features/f%03d/component%d.tsx", i/30, i)
			body = genJS(i, size)
		case 1:
			path = fmt.Sprintf("api/app/module%03d/views%d.py", i/30, i)
			body = genPython(i, size)
		default:
			path = fmt.Sprintf("svc/internal/pkg%03d/handler%d.go", i/30, i)
			body = genGo(i, size)
		}
		mustWrite(b, filepath.Join(root, filepath.FromSlash(path)), body)
	}
}

func genJS(i, size int) string {
	var s strings.Builder
	s.WriteString("import mixpanel from 'mixpanel-browser'\nimport * as Sentry from '@sentry/browser'\n" +
		"import { useState, useEffect } from 'react'\nimport { api } from '../../lib/api'\n\n")
	for j := 0; s.Len() < size; j++ {
		fmt.Fprintf(&s, `
// handler%[1]d_%[2]d computes the order total and reports it.
export function handler%[1]d_%[2]d(user, order) {
  const total = order.items.reduce((sum, item) => sum + item.price * item.quantity, 0)
  const [state, setState] = useState({ loading: false, total })
  useEffect(() => { setState((s) => ({ ...s, loading: true })) }, [order.id])
  if (total > 100 && user.plan !== 'free') {
    console.log("large order", order.id, "/api/orders/" + order.id)
  }
`, i, j)
		if j%4 == 0 {
			s.WriteString("  mixpanel.track('Order Placed', { email: user.email, total, plan: user.plan })\n")
		}
		if j%7 == 0 {
			s.WriteString("  Sentry.setUser({ id: user.id, email: user.email })\n")
		}
		s.WriteString("  return api.post('/orders', { id: order.id, total, currency: 'EUR' })\n}\n")
	}
	return s.String()
}

func genPython(i, size int) string {
	var s strings.Builder
	s.WriteString("import logging\n\nimport analytics\nimport sentry_sdk\nimport stripe\nfrom django.http import JsonResponse\n\nlog = logging.getLogger(__name__)\n\n")
	for j := 0; s.Len() < size; j++ {
		fmt.Fprintf(&s, `

def view_%[1]d_%[2]d(request, order_id):
    """Return the order and report it."""
    user = request.user
    order = Order.objects.select_related("customer").get(pk=order_id, owner=user)
    total = sum(item.price * item.quantity for item in order.items.all())
    if total > 100 and user.plan != "free":
        log.info("large order %%s for %%s", order.pk, user.pk)
`, i, j)
		if j%4 == 0 {
			s.WriteString("    analytics.track(user.id, 'Order Placed', {'email': user.email, 'total': total})\n")
		}
		if j%9 == 0 {
			s.WriteString("    stripe.Customer.modify(order.customer.stripe_id, email=user.email, name=user.get_full_name())\n")
		}
		s.WriteString("    return JsonResponse({\"id\": order.pk, \"total\": str(total), \"currency\": \"EUR\"})\n")
	}
	return s.String()
}

func genGo(i, size int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "package pkg%03d\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"net/http\"\n\n\t\"github.com/getsentry/sentry-go\"\n\t\"github.com/stripe/stripe-go/v76\"\n)\n", i/30)
	for j := 0; s.Len() < size; j++ {
		fmt.Fprintf(&s, `
// Handle%[1]d_%[2]d reports an order.
func Handle%[1]d_%[2]d(ctx context.Context, w http.ResponseWriter, r *http.Request, u User, o Order) error {
	total := 0
	for _, it := range o.Items {
		total += it.Price * it.Quantity
	}
	if total > 100 && u.Plan != "free" {
		fmt.Fprintf(w, "large order %%d for %%s\n", o.ID, u.ID)
	}
`, i, j)
		if j%4 == 0 {
			s.WriteString("\tsentry.ConfigureScope(func(scope *sentry.Scope) { scope.SetUser(sentry.User{ID: u.ID, Email: u.Email}) })\n")
		}
		if j%9 == 0 {
			s.WriteString("\t_ = &stripe.CustomerParams{Email: stripe.String(u.Email), Name: stripe.String(u.Name)}\n")
		}
		s.WriteString("\treturn nil\n}\n")
	}
	return s.String()
}
