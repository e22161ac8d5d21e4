package app_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"gopkg.in/yaml.v3"

	apidoc "github.com/cxmlgate/punchout/api"
	"github.com/cxmlgate/punchout/internal/apptest"
	"github.com/cxmlgate/punchout/internal/dbtest"
)

// Every admin route is described in api/openapi.yaml, and nothing the
// file describes is missing from the router.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(apidoc.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			described[strings.ToUpper(method)+" /api/v1"+path] = true
		}
	}
	s := apptest.Start(t, dbtest.SQLiteDSN(t))
	routed := map[string]bool{}
	for _, r := range s.App.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.yaml" || strings.HasSuffix(r.Path, "*") {
			continue
		}
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		routed[r.Method+" "+p] = true
	}
	for r := range routed {
		assert.True(t, described[r], "route %s is not in api/openapi.yaml", r)
	}
	for d := range described {
		assert.True(t, routed[d], "api/openapi.yaml describes %s, which the router does not serve", d)
	}
}
