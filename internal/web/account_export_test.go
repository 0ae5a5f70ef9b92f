package web

// OneTimeRoutes are the routes a session with a one-time password may
// reach.
func OneTimeRoutes() map[string]bool { return oneTimeRoutes }
