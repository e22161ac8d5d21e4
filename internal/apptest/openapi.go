package apptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	apidoc "github.com/cxmlgate/punchout/api"
)

// The admin API description, loaded and validated once per test binary.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu      sync.Mutex
	checked map[string]bool // "GET /agreements/{id} 200"
}

// LoadOpenAPI loads api/openapi.yaml, validates it as OpenAPI 3 and
// returns it with a router that finds its operations.
func LoadOpenAPI() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		// The gateway's one non-JSON answer is a cXML document.
		openapi3filter.RegisterBodyDecoder("text/xml", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(apidoc.OpenAPI)
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.yaml does not load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context, openapi3.EnableSchemaFormatValidation(), openapi3.EnableSchemaPatternValidation()); err != nil {
			spec.err = fmt.Errorf("api/openapi.yaml is not valid OpenAPI %s: %w", doc.OpenAPI, err)
			return
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("api/openapi.yaml: router: %w", err)
			return
		}
		spec.doc, spec.router = doc, r
	})
	return spec.doc, spec.router, spec.err
}

// CheckedAnswers lists the operations and statuses whose answers were
// checked against the description so far in this test binary, as
// "GET /agreements/{id} 200".
func CheckedAnswers() []string {
	spec.mu.Lock()
	defer spec.mu.Unlock()
	out := make([]string, 0, len(spec.checked))
	for k := range spec.checked {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// CheckAPIAnswer fails t unless the answer to req (status, headers,
// body) is one that api/openapi.yaml describes for req's operation:
// a documented status, with the documented content type and a body that
// matches the schema. Every call through Server.API and APIWithToken is
// checked, so every admin answer the test suite sees is.
func CheckAPIAnswer(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := checkAPIAnswer(req, status, header, body); err != nil {
		t.Errorf("api/openapi.yaml does not describe the answer to %s %s: %v\nanswer: %d %s\n%s",
			req.Method, req.URL.RequestURI(), err, status, header.Get("Content-Type"), cut(body, 2000))
	}
}

func checkAPIAnswer(req *http.Request, status int, header http.Header, body []byte) error {
	_, router, err := LoadOpenAPI()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// The router answers paths and methods it does not serve with a
		// JSON 404 or 405 of its own; anything else must be described.
		if (errors.Is(err, routers.ErrPathNotFound) && status == http.StatusNotFound) ||
			(errors.Is(err, routers.ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed) {
			return nil
		}
		return fmt.Errorf("no operation: %w", err)
	}
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("status %d is not documented for the operation", status)
	}
	if len(body) > 0 {
		// A body needs a described content type with a schema (the
		// validator lets an answer through where the description has none).
		ct := header.Get("Content-Type")
		mt := resp.Value.Content.Get(ct)
		if mt == nil {
			return fmt.Errorf("content type %q is not documented for status %d", ct, status)
		}
		if mt.Schema == nil {
			return fmt.Errorf("content type %q of status %d has no schema", ct, status)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	spec.mu.Lock()
	if spec.checked == nil {
		spec.checked = map[string]bool{}
	}
	spec.checked[fmt.Sprintf("%s %s %d", route.Method, route.Path, status)] = true
	spec.mu.Unlock()
	return nil
}

func cut(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return strings.ToValidUTF8(string(b[:n]), "") + "…"
}
