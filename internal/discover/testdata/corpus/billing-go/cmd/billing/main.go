package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
	"github.com/segmentio/analytics-go/v3"
	"github.com/stripe/stripe-go/v82"

	"github.com/northwind-labs/billing/internal/billing"
	"github.com/northwind-labs/billing/internal/events"
	"github.com/northwind-labs/billing/internal/kyc"
	"github.com/northwind-labs/billing/internal/observe"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))

	if err := sentry.Init(sentry.ClientOptions{
		Dsn:              os.Getenv("SENTRY_DSN"),
		Environment:      os.Getenv("APP_ENV"),
		TracesSampleRate: 0.1,
	}); err != nil {
		logger.Error("sentry init", "err", err)
	}
	defer sentry.Flush(2 * time.Second)

	stripe.Key = os.Getenv("STRIPE_SECRET_KEY")

	seg, err := analytics.NewWithConfig(os.Getenv("SEGMENT_WRITE_KEY"), analytics.Config{
		Interval:  5 * time.Second,
		BatchSize: 100,
	})
	if err != nil {
		logger.Error("segment client", "err", err)
		os.Exit(1)
	}
	defer seg.Close()

	svc := &billing.Service{
		Accounts: billing.NewMemStore(),
		Events:   events.New(seg),
		KYC:      kyc.NewQuickVerify(os.Getenv("QUICKVERIFY_API_KEY")),
		Log:      logger,
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/accounts/{id}/customer", svc.HandleCreateCustomer)
	mux.HandleFunc("POST /v1/accounts/{id}/verify", svc.HandleVerifyIdentity)

	sentryHandler := sentryhttp.New(sentryhttp.Options{Repanic: true})
	srv := &http.Server{
		Addr:              ":8080",
		Handler:           sentryHandler.Handle(observe.WithUser(svc.Accounts, mux)),
		ReadHeaderTimeout: 5 * time.Second,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()

	logger.Info("billing listening", "addr", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
