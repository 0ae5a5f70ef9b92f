package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeOptions are how Serve listens.
type ServeOptions struct {
	// Listener serves the API; MetricsListener, when set, serves
	// MetricsHandler (metrics and health without credentials).
	Listener        net.Listener
	MetricsListener net.Listener
	// TLSCert and TLSKey are PEM files; without them the server speaks
	// plain HTTP (put it behind a TLS-terminating proxy, or on loopback).
	TLSCert, TLSKey string
	// ShutdownTimeout bounds the wait for requests in flight when ctx ends
	// (0: 10 s).
	ShutdownTimeout time.Duration
	// SweepEvery is how often expired sessions are deleted (0: an hour).
	SweepEvery time.Duration
}

// Serve serves until ctx ends (SIGINT, SIGTERM), then shuts down
// gracefully: it stops accepting, lets requests in flight finish within
// ShutdownTimeout, and returns. It returns at once if a listener fails.
func (s *Server) Serve(ctx context.Context, o ServeOptions) error {
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = time.Hour
	}
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			// A blast radius over millions of ledger rows takes seconds.
			WriteTimeout:   5 * time.Minute,
			IdleTimeout:    2 * time.Minute,
			MaxHeaderBytes: 64 << 10,
			ErrorLog:       errLog,
		}
	}
	servers := []*http.Server{newServer(s)}
	listeners := []net.Listener{o.Listener}
	if o.MetricsListener != nil {
		servers = append(servers, newServer(s.MetricsHandler()))
		listeners = append(listeners, o.MetricsListener)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			var err error
			if i == 0 && o.TLSCert != "" {
				err = srv.ServeTLS(listeners[i], o.TLSCert, o.TLSKey)
			} else {
				err = srv.Serve(listeners[i])
			}
			errc <- err
		}()
	}
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go s.sweepSessions(sweepCtx, o.SweepEvery)

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("serve: shutting down", "timeout", o.ShutdownTimeout.String())
	case err = <-errc:
		s.log.Error("serve: a listener failed", "err", err.Error())
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// sweepSessions deletes expired sessions now and then, so the table does
// not grow with every login ever made.
func (s *Server) sweepSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.svc.Store.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("serve: deleting expired sessions", "err", err.Error())
		} else if n > 0 {
			s.log.Info("serve: deleted expired sessions", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
