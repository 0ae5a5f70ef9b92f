package web_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/cli"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/inventory/invgen"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// benchClients is how many clients send requests at once, each on its
// own keep-alive connection.
const benchClients = 8

// BenchmarkAPI measures authenticated GETs per second through a real
// server on 127.0.0.1 over SQLite (the default database), with
// benchClients concurrent clients in the same process (they share the
// CPUs with the server). The access log is on (to io.Discard). Report:
// req/s.
//
//	go test ./internal/web -run '^$' -bench API -benchtime 20000x
func BenchmarkAPI(b *testing.B) {
	for _, data := range []struct {
		name string
		load func(b *testing.B, db string)
	}{
		{"acme", func(b *testing.B, db string) {
			var out, errOut bytes.Buffer
			if code := cli.Main([]string{"--db", db, "apply", "-f", acme}, strings.NewReader(""), &out, &errOut); code != 0 {
				b.Fatal(errOut.String())
			}
		}},
		{"1k-vendors", func(b *testing.B, db string) {
			st, err := cli.OpenStore(ctx, db, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svc := service.New(st)
			inv := invgen.Generate(invgen.Size{Vendors: 1000, Systems: 100, Flows: 10_000}, 1)
			inv.Vendors[0].ID = "mixpanel" // the vendor the benchmark reads
			for i := range inv.Flows {
				if inv.Flows[i].Vendor == "vendor-00000" {
					inv.Flows[i].Vendor = "mixpanel"
				}
			}
			for i := range inv.Vendors {
				for j, s := range inv.Vendors[i].Subprocessors {
					if s == "vendor-00000" {
						inv.Vendors[i].Subprocessors[j] = "mixpanel"
					}
				}
			}
			inv.Sort()
			plan, base, err := svc.Plan(ctx, inventory.FromInventory(inv), false)
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.ApplyPlan(ctx, base, plan); err != nil {
				b.Fatal(err)
			}
		}},
	} {
		b.Run(data.name, func(b *testing.B) {
			db := filepath.Join(b.TempDir(), "bench.db")
			data.load(b, db)
			st, err := cli.OpenStore(ctx, db, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			svc := service.New(st)
			if _, err := st.CreateUser(ctx, auth.User{Name: "viewer", Role: auth.RoleViewer}); err != nil {
				b.Fatal(err)
			}
			_, sec, err := svc.CreateToken(ctx, service.TokenRequest{User: "viewer"})
			if err != nil {
				b.Fatal(err)
			}
			server := func(ttl time.Duration) string {
				srv, err := web.New(web.Options{Service: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuthCacheTTL: ttl})
				if err != nil {
					b.Fatal(err)
				}
				ts := httptest.NewServer(srv)
				b.Cleanup(ts.Close)
				return ts.URL
			}
			cached, uncached := server(0), server(-1)
			for _, ep := range []struct{ name, url string }{
				{"vendor", cached + "/api/v1/vendors/mixpanel"},
				{"vendors-limit-50", cached + "/api/v1/vendors?limit=50"},
				// Every request looks its token up in the database (two
				// indexed reads: token, user).
				{"vendor-no-auth-cache", uncached + "/api/v1/vendors/mixpanel"},
			} {
				b.Run(ep.name, func(b *testing.B) {
					benchGET(b, ep.url, sec.Reveal())
				})
			}
		})
	}
}

// benchGET sends b.N GETs from benchClients goroutines and reports the
// rate.
func benchGET(b *testing.B, url, token string) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed atomic.Value
	var bytesRead atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			for next.Add(1) <= int64(b.N) {
				res, err := client.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				bytesRead.Add(n)
				if res.StatusCode != 200 {
					failed.Store(fmt.Sprintf("status %d", res.StatusCode))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(bytesRead.Load())/float64(b.N), "B/resp")
}

// ui10k is a server over 10,000 vendors, 200 systems and 30,000 flows in
// SQLite, with an API token for each role asked for.
type ui10k struct {
	st     store.Store
	svc    *service.Service
	inv    inventory.Inventory
	tokens map[auth.Role]string
}

func newUI10k(b *testing.B, roles ...auth.Role) *ui10k {
	b.Helper()
	st, err := cli.OpenStore(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	u := &ui10k{st: st, svc: service.New(st), tokens: map[auth.Role]string{},
		inv: invgen.Generate(invgen.Size{Vendors: 10_000, Systems: 200, Flows: 30_000}, 1)}
	plan, base, err := u.svc.Plan(ctx, inventory.FromInventory(u.inv), false)
	if err != nil {
		b.Fatal(err)
	}
	if err := u.svc.ApplyPlan(ctx, base, plan); err != nil {
		b.Fatal(err)
	}
	for _, role := range roles {
		if _, err := st.CreateUser(ctx, auth.User{Name: string(role), Role: role}); err != nil {
			b.Fatal(err)
		}
		_, sec, err := u.svc.CreateToken(ctx, service.TokenRequest{User: string(role)})
		if err != nil {
			b.Fatal(err)
		}
		u.tokens[role] = sec.Reveal()
	}
	return u
}

func (u *ui10k) server(b *testing.B) *web.Server {
	b.Helper()
	srv, err := web.New(web.Options{Service: u.svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// benchPage gets path b.N times from the handler h gives (a new server
// each time measures a cold cache; h runs outside the timer) and reports
// ms/page and the page's size.
func benchPage(b *testing.B, path, token string, h func() http.Handler) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		srv := h()
		b.StartTimer()
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	b.ReportMetric(float64(size), "B/page")
}

// BenchmarkUIVendorList10k measures the server time of the web UI's
// vendor list over 10,000 vendors (and 30,000 flows) in SQLite: the
// handler alone, called directly with a recorder, so the figure is what
// the server spends per page (authentication, the count and the page
// query, the template), without a client or a network. The issue's
// budget is 200 ms. The dashboard, over the same inventory, is measured
// beside it. Report: ms/page.
//
//	go test ./internal/web -run '^$' -bench UIVendorList10k -benchtime 50x
func BenchmarkUIVendorList10k(b *testing.B) {
	u := newUI10k(b, auth.RoleViewer)
	srv := u.server(b)
	for _, p := range []struct{ name, path string }{
		{"first-page", "/vendors"},
		{"last-page-by-name", "/vendors?sort=name&page=200"},
		{"search", "/vendors?q=vendor-09"},
		{"filter-and-sort", "/vendors?category=analytics&sort=-criticality"},
		{"1000-rows", "/vendors?limit=1000"},
		{"dashboard", "/dashboard"},
	} {
		b.Run(p.name, func(b *testing.B) {
			benchPage(b, p.path, u.tokens[auth.RoleViewer], func() http.Handler { return srv })
		})
	}
}

// BenchmarkUIPages10k measures the server time of the who-has explorer
// and the incident list over the inventory of BenchmarkUIVendorList10k
// and 200 incidents (190 closed), as BenchmarkUIVendorList10k does: the
// handler alone, with a recorder. The incident list is read by a viewer
// and by an editor (who also gets the open form's vendor choices).
// "data-new-server" is /data on a new server each time: the tree's counts
// computed afresh, as after every change to the inventory. Report: ms/page.
//
//	go test ./internal/web -run '^$' -bench UIPages10k -benchtime 20x
func BenchmarkUIPages10k(b *testing.B) {
	u := newUI10k(b, auth.RoleViewer, auth.RoleEditor)
	for i := range 200 {
		in := incident.Incident{Vendor: u.inv.Vendors[i*37].ID, Title: fmt.Sprintf("Incident %d", i), Categories: []string{"user.contact.email"}}
		if i >= 10 {
			in.Status = incident.StatusClosed
		}
		if _, err := u.svc.OpenIncident(ctx, in, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	srv := u.server(b)
	for _, p := range []struct {
		name, path string
		role       auth.Role
		fresh      bool
	}{
		{"data", "/data", auth.RoleViewer, false},
		{"data-new-server", "/data", auth.RoleViewer, true},
		{"data-category", "/data?category=user.contact.email", auth.RoleViewer, false},
		{"incidents", "/incidents", auth.RoleViewer, false},
		{"incidents-page-3", "/incidents?page=3", auth.RoleViewer, false},
		{"incidents-editor", "/incidents", auth.RoleEditor, false},
	} {
		b.Run(p.name, func(b *testing.B) {
			h := func() http.Handler { return srv }
			if p.fresh {
				h = func() http.Handler { return u.server(b) }
			}
			benchPage(b, p.path, u.tokens[p.role], h)
		})
	}
}
