module github.com/northwind-labs/billing

go 1.23

require (
	github.com/getsentry/sentry-go v0.29.1
	github.com/segmentio/analytics-go/v3 v3.3.0
	github.com/stripe/stripe-go/v82 v82.1.0
)

require (
	github.com/bmizerany/assert v0.0.0-20160611221934-b7ed37b82869 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/kr/pretty v0.3.1 // indirect
	github.com/segmentio/backo-go v1.0.1 // indirect
	golang.org/x/sys v0.26.0 // indirect
	golang.org/x/text v0.19.0 // indirect
)
