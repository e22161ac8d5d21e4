package api

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// QueryParameters returns, for each operation of the description, the
// names of the query parameters it takes, keyed "METHOD /path" with the
// path as the router writes it under /api/v1 (":id", not "{id}").
func QueryParameters() (map[string]map[string]bool, error) {
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	out := map[string]map[string]bool{}
	for path, item := range doc.Paths.Map() {
		route := "/api/v1" + strings.NewReplacer("{", ":", "}", "").Replace(path)
		for method, op := range item.Operations() {
			names := map[string]bool{}
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
					names[p.Value.Name] = true
				}
			}
			out[method+" "+route] = names
		}
	}
	return out, nil
}
