package panel

// routes registers the pages, in nav order. A page whose part is not
// configured (Training without [imap]) is not registered, so it is
// neither in the nav nor reachable. The Policy page registers here too
// (see the package comment).
func (s *Server) routes() {
	s.page("/", "Status", roleReadonly, s.statusPage)
	s.policyRoutes()
	s.bayesRoutes()
	if s.deps.Training != nil {
		s.trainingRoutes()
	}
}
