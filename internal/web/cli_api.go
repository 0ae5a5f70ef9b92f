package web

// Routes the remote command line (weaklink --server) needs beyond the
// others: a system and a flow by id, as `systems show` and `flows show`
// print them.

func (s *Server) getSystem(c *call) (any, error) {
	return s.svc.SystemDetail(c.ctx, c.r.PathValue("id"))
}

func (s *Server) getFlow(c *call) (any, error) {
	return s.svc.Store.GetFlow(c.ctx, c.r.PathValue("id"))
}
