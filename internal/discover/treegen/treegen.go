// Package treegen writes synthetic source trees for discovery benchmarks:
// a monorepo of JavaScript/TypeScript, Python and Go services with the
// manifests that declare their SDKs, SDK calls that send personal data,
// and a lot of ordinary code, config and documentation around them.
package treegen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Manifests declare the SDKs the generated code uses.
var manifests = map[string]string{
	"web/package.json":        `{"name": "web", "dependencies": {"mixpanel-browser": "^2.55.0", "@sentry/browser": "^8.0.0", "posthog-js": "^1.100.0"}}`,
	"api/requirements.txt":    "Django==5.0.1\nsentry-sdk==2.0.0\nsegment-analytics-python==2.3.2\nstripe==8.0.0\n",
	"svc/go.mod":              "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/getsentry/sentry-go v0.27.0\n\tgithub.com/stripe/stripe-go/v76 v76.25.0\n)\n",
	"web/.env.example":        "NEXT_PUBLIC_MIXPANEL_TOKEN=\nNEXT_PUBLIC_SENTRY_DSN=\n",
	"deploy/nginx/nginx.conf": "add_header Content-Security-Policy \"script-src 'self' https://cdn.mxpnl.com\";\n",
}

// Uniform writes n source files of about size bytes each under root, in
// equal parts JavaScript/TypeScript, Python and Go, and returns the bytes
// written.
func Uniform(root string, n, size int) (int64, error) {
	return write(root, n, func(int) int { return size }, false)
}

// Mixed writes a tree of n files that looks more like a real repository:
// sizes from 0.5 to 24 KB (most of them small), and one file in ten a
// README, YAML or JSON config, HTML template or image beside the code.
// It returns the bytes written.
func Mixed(root string, n int) (int64, error) {
	return write(root, n, func(i int) int {
		// A deterministic spread: a quarter under 2 KB, half under 5 KB.
		h := uint32(i)*2654435761 ^ 0x9e3779b9
		switch h % 8 {
		case 0, 1:
			return 512 + int(h>>8)%1536
		case 2, 3:
			return 2048 + int(h>>8)%3072
		case 4, 5:
			return 5120 + int(h>>8)%5120
		case 6:
			return 10240 + int(h>>8)%6144
		default:
			return 16384 + int(h>>8)%8192
		}
	}, true)
}

func write(root string, n int, size func(int) int, others bool) (int64, error) {
	var total int64
	put := func(rel, body string) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		total += int64(len(body))
		return os.WriteFile(p, []byte(body), 0o644)
	}
	for rel, body := range manifests {
		if err := put(rel, body); err != nil {
			return 0, err
		}
	}
	for i := range n - len(manifests) {
		var rel, body string
		if others && i%10 == 9 {
			rel, body = otherFile(i)
		} else {
			switch i % 3 {
			case 0:
				rel = fmt.Sprintf("web/src/features/f%03d/component%d.tsx", i/30, i)
				body = jsFile(i, size(i))
			case 1:
				rel = fmt.Sprintf("api/app/module%03d/views%d.py", i/30, i)
				body = pythonFile(i, size(i))
			default:
				rel = fmt.Sprintf("svc/internal/pkg%03d/handler%d.go", i/30, i)
				body = goFile(i, size(i))
			}
		}
		if err := put(rel, body); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// otherFile is documentation, configuration, a template or an image.
func otherFile(i int) (string, string) {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("docs/section%03d/README%d.md", i/40, i), strings.Repeat("This service computes order totals for the dashboard. See the runbook.\n", 40)
	case 1:
		return fmt.Sprintf("deploy/k8s/app%d.yaml", i), fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%d\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:%d\n          env:\n            - name: LOG_LEVEL\n              value: info\n", i, i)
	case 2:
		return fmt.Sprintf("web/templates/page%d.html", i), "<!doctype html>\n<html><head><title>Orders</title></head>\n<body><main id=\"app\"></main><script src=\"/static/app.js\"></script></body></html>\n"
	default:
		img := make([]byte, 4096)
		copy(img, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
		return fmt.Sprintf("web/public/img/icon%d.png", i), string(img)
	}
}

func jsFile(i, size int) string {
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

func pythonFile(i, size int) string {
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

func goFile(i, size int) string {
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
