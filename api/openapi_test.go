package api_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// TestOpenAPI loads the served document, validates it, checks that it
// documents exactly the registered routes, and validates a real answer of
// every operation (and an error answer of each) against it.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.segment("door", time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 10, 1, 0, 0, time.UTC))
	hold, err := f.archive.AddHold(holdOf("door"))
	if err != nil {
		t.Fatal(err)
	}
	served := f.do(ops(request{target: "/api/v1/openapi.json"}))
	doc, err := openapi3.NewLoader().LoadFromData(served.body)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+p)
		}
	}
	registered := f.srv.Patterns()
	slices.Sort(documented)
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("documented %q\nregistered %q", documented, registered)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	// Kicks and removals go last: they change what the others see.
	patterns := slices.SortedFunc(slices.Values(registered), func(a, b string) int {
		return compareBool(strings.HasPrefix(a, "DELETE"), strings.HasPrefix(b, "DELETE"))
	})
	for _, pattern := range patterns {
		rq := routeRequest(pattern, hold)
		for _, variant := range []struct {
			name string
			rq   request
		}{{"ok", ops(rq)}, {"anonymous", rq}} {
			if variant.name == "anonymous" && pattern == "GET /healthz" {
				continue
			}
			a := f.do(variant.rq)
			if variant.name == "ok" && !answeredOK(pattern, a.code) {
				t.Fatalf("%s: %d %s", pattern, a.code, a.body)
			}
			req := f.build(variant.rq)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("%s: %v", pattern, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s request: %v", pattern, err)
			}
			in.Request = f.build(variant.rq) // ValidateRequest read the body
			if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in, Status: a.code, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body)),
				Options: in.Options,
			}); err != nil {
				t.Errorf("%s %s answer %d: %v\n%s", pattern, variant.name, a.code, err, a.body)
			}
		}
	}
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
