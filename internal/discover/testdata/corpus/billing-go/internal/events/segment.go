package events

import (
	"github.com/segmentio/analytics-go/v3"
)

// Publisher sends billing lifecycle events to Segment.
type Publisher struct {
	client analytics.Client
}

func New(c analytics.Client) *Publisher { return &Publisher{client: c} }

func (p *Publisher) Identify(accountID, email, name, plan string) {
	_ = p.client.Enqueue(analytics.Identify{
		UserId: accountID,
		Traits: analytics.NewTraits().
			SetEmail(email).
			SetName(name).
			Set("plan", plan),
	})
}

func (p *Publisher) InvoicePaid(accountID, invoiceID string, amountCents int64, currency string) {
	_ = p.client.Enqueue(analytics.Track{
		UserId: accountID,
		Event:  "Invoice Paid",
		Properties: analytics.NewProperties().
			Set("invoice_id", invoiceID).
			SetRevenue(float64(amountCents) / 100).
			SetCurrency(currency),
	})
}
