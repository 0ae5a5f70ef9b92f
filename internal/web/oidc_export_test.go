package web

// SetSSOMaxFinished bounds the finished sign-ins the server remembers,
// for tests of the bound. Call it before the first request.
func (s *Server) SetSSOMaxFinished(n int) { s.sso.used = newReplaySet(n) }
