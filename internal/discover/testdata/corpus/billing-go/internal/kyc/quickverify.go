// Package kyc wraps QuickVerify, the identity-verification provider used for
// accounts that exceed the self-serve payout limit.
package kyc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

const quickVerifyURL = "https://api.quickverify.io/v1/check"

// Applicant is the person being verified. DocumentType is one of
// "passport", "id_card" or "drivers_license".
type Applicant struct {
	FullName       string
	DateOfBirth    time.Time
	DocumentType   string
	DocumentNumber string
}

type checkRequest struct {
	FullName       string `json:"full_name"`
	DateOfBirth    string `json:"date_of_birth"`
	DocumentNumber string `json:"document_number"`
	DocumentType   string `json:"document_type"`
}

type CheckResult struct {
	CheckID string `json:"check_id"`
	Status  string `json:"status"`
}

type QuickVerify struct {
	apiKey string
	http   *http.Client
}

func NewQuickVerify(apiKey string) *QuickVerify {
	return &QuickVerify{apiKey: apiKey, http: &http.Client{Timeout: 15 * time.Second}}
}

func (q *QuickVerify) Check(ctx context.Context, a Applicant) (*CheckResult, error) {
	body, err := json.Marshal(checkRequest{
		FullName:       a.FullName,
		DateOfBirth:    a.DateOfBirth.Format("2006-01-02"),
		DocumentNumber: a.DocumentNumber,
		DocumentType:   a.DocumentType,
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, quickVerifyURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+q.apiKey)
	req.Header.Set("Content-Type", "application/json")

	resp, err := q.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("quickverify: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("quickverify: %s: %s", resp.Status, msg)
	}
	var out CheckResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return &out, nil
}
