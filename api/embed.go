// Package api holds the admin API's OpenAPI description, served at
// /api/v1/openapi.yaml and checked against the router in tests.
package api

import _ "embed"

// OpenAPI is the admin API description.
//
//go:embed openapi.yaml
var OpenAPI []byte
