package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/customer"

	"github.com/northwind-labs/billing/internal/events"
	"github.com/northwind-labs/billing/internal/kyc"
)

// Account is a billing account holder.
type Account struct {
	ID               string
	Email            string
	Name             string
	Phone            string
	Plan             string
	DateOfBirth      time.Time
	DocumentType     string
	DocumentNumber   string
	StripeCustomerID string
}

type AccountStore interface {
	Get(ctx context.Context, id string) (*Account, error)
	Save(ctx context.Context, a *Account) error
}

type Service struct {
	Accounts AccountStore
	Events   *events.Publisher
	KYC      *kyc.QuickVerify
	Log      *slog.Logger
}

// EnsureStripeCustomer creates the Stripe customer for an account on first use.
func (s *Service) EnsureStripeCustomer(ctx context.Context, a *Account) (string, error) {
	if a.StripeCustomerID != "" {
		return a.StripeCustomerID, nil
	}
	params := &stripe.CustomerParams{
		Email: stripe.String(a.Email),
		Name:  stripe.String(a.Name),
		Phone: stripe.String(a.Phone),
	}
	params.Context = ctx
	params.AddMetadata("account_id", a.ID)
	params.SetIdempotencyKey("customer-" + a.ID)

	c, err := customer.New(params)
	if err != nil {
		return "", fmt.Errorf("stripe: create customer: %w", err)
	}
	a.StripeCustomerID = c.ID
	if err := s.Accounts.Save(ctx, a); err != nil {
		return "", err
	}
	s.Events.Identify(a.ID, a.Email, a.Name, a.Plan)
	return c.ID, nil
}

func (s *Service) HandleCreateCustomer(w http.ResponseWriter, r *http.Request) {
	a, err := s.Accounts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		http.Error(w, "account not found", http.StatusNotFound)
		return
	}
	id, err := s.EnsureStripeCustomer(r.Context(), a)
	if err != nil {
		s.Log.Error("create customer", "account", a.ID, "err", err)
		http.Error(w, "upstream error", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"customer_id": id})
}

func (s *Service) HandleVerifyIdentity(w http.ResponseWriter, r *http.Request) {
	a, err := s.Accounts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		http.Error(w, "account not found", http.StatusNotFound)
		return
	}
	res, err := s.KYC.Check(r.Context(), kyc.Applicant{
		FullName:       a.Name,
		DateOfBirth:    a.DateOfBirth,
		DocumentType:   a.DocumentType,
		DocumentNumber: a.DocumentNumber,
	})
	if err != nil {
		s.Log.Error("kyc check", "account", a.ID, "err", err)
		http.Error(w, "verification unavailable", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": res.Status, "check_id": res.CheckID})
}

// InvoicePaid is called from the Stripe webhook handler.
func (s *Service) InvoicePaid(a *Account, inv *stripe.Invoice) {
	s.Events.InvoicePaid(a.ID, inv.ID, inv.AmountPaid, string(inv.Currency))
}

// MemStore is an in-memory AccountStore used in development.
type MemStore struct {
	mu sync.Mutex
	m  map[string]*Account
}

func NewMemStore() *MemStore { return &MemStore{m: map[string]*Account{}} }

func (s *MemStore) Get(_ context.Context, id string) (*Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[id]
	if !ok {
		return nil, errors.New("not found")
	}
	return a, nil
}

func (s *MemStore) Save(_ context.Context, a *Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[a.ID] = a
	return nil
}
