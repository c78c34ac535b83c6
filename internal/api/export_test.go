package api

// RouteKeys lists the "METHOD pattern" of every route the API serves, for the conformance
// test in package api_test.
func RouteKeys() []string {
	out := make([]string, 0, len(routes))
	for _, rt := range routes {
		out = append(out, rt.Method+" "+openAPIPath(rt.Pattern))
	}
	return out
}
