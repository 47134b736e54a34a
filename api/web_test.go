package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestWebPageHeaders: the page at / and every file it references are served
// to an anonymous caller from a far address, with their Content-Type, a
// strict Content-Security-Policy, nosniff and an ETag that answers 304; the
// page loads nothing from another origin and has no inline script or style.
func TestWebPageHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	page := f.do(request{target: "/"})
	checkWebAnswer(t, "/", page, "text/html; charset=utf-8")
	html := string(page.body)
	for _, inline := range []string{"<script>", " style=", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(html, inline) {
			t.Errorf("the page has inline code or style %q", inline)
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(html, -1)
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	var assets []string
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/web/") {
			t.Errorf("the page references %q, outside /web/", ref)
			continue
		}
		assets = append(assets, ref)
		ext := ref[strings.LastIndex(ref, "."):]
		a := f.do(request{target: ref})
		checkWebAnswer(t, ref, a, want[ext])
		body := regexp.MustCompile(`xmlns="[^"]*"`).ReplaceAll(a.body, nil) // a namespace name, not a load
		if regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).Match(body) || strings.Contains(string(body), "@import") {
			t.Errorf("%s loads from another origin", ref)
		}
	}
	if !slices.Contains(assets, "/web/app.js") || !slices.Contains(assets, "/web/live.js") || !slices.Contains(assets, "/web/app.css") {
		t.Fatalf("the page references %q, want the scripts and the style sheet", assets)
	}
	livePage := f.do(request{target: "/live/door"})
	checkWebAnswer(t, "/live/door", livePage, "text/html; charset=utf-8")
	if !strings.Contains(string(livePage.body), `<script src="/web/live.js" defer>`) || strings.Contains(string(livePage.body), "<script>") {
		t.Errorf("the live page does not load live.js alone:\n%s", livePage.body)
	}
	// Revalidation: the same ETag gets 304 without a body.
	rq := request{target: "/web/app.js"}
	req := f.build(rq)
	req.Header.Set("If-None-Match", f.do(rq).header.Get("ETag"))
	if a := serve(f, req); a.code != http.StatusNotModified || len(a.body) != 0 {
		t.Errorf("If-None-Match with the ETag: %d, %d bytes", a.code, len(a.body))
	}
	for _, missing := range []string{"/web/nothing.js", "/web/index.html", "/index.html", "/web/live.html", "/live/", "/live/bad%20name"} {
		if a := f.do(request{target: missing}); a.code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", missing, a.code)
		} else {
			a.problem(t)
		}
	}
	if a := f.do(request{method: http.MethodPost, target: "/"}); a.code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", a.code)
	}
}

func checkWebAnswer(t *testing.T, target string, a answer, contentType string) {
	t.Helper()
	if a.code != http.StatusOK {
		t.Fatalf("%s: %d %s", target, a.code, a.body)
	}
	h := a.header
	if got := h.Get("Content-Type"); got != contentType {
		t.Errorf("%s: Content-Type %q, want %q", target, got, contentType)
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "media-src 'self' blob:", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", target, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "*") {
		t.Errorf("%s: Content-Security-Policy %q is not strict", target, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", target, h.Get("X-Content-Type-Options"))
	}
	if etag := h.Get("ETag"); len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
		t.Errorf("%s: ETag %q, want a strong one", target, etag)
	}
	if h.Get("Cache-Control") != "no-cache" {
		t.Errorf("%s: Cache-Control %q, want no-cache (revalidate with the ETag)", target, h.Get("Cache-Control"))
	}
}

// apiCall is one API call the page's script makes.
type apiCall struct {
	method, path string   // path with "{}" for each ${...} substitution
	query        []string // query parameter names
}

// scriptCalls parses the /api/v1 literals of the page's script: the method
// of an api('METHOD', ...) call (GET for a link or a video source), the
// path, and the names of the query parameters.
func scriptCalls(t *testing.T, js string) []apiCall {
	t.Helper()
	literal := regexp.MustCompile("(?:api\\('([A-Z]+)',\\s*)?[`'](/api/v1/[^`']*)[`']")
	subst := regexp.MustCompile(`\$\{[^}]*\}`)
	var calls []apiCall
	for _, m := range literal.FindAllStringSubmatch(js, -1) {
		c := apiCall{method: cmpOr(m[1], http.MethodGet)}
		p, q, _ := strings.Cut(subst.ReplaceAllString(m[2], "{}"), "?")
		c.path = p
		for kv := range strings.SplitSeq(q, "&") {
			if name, _, _ := strings.Cut(kv, "="); name != "" {
				c.query = append(c.query, name)
			}
		}
		calls = append(calls, c)
	}
	return calls
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestWebScriptUsesDocumentedAPI: every /api/v1 call in the page's scripts
// (the live view's WebSocket included) is an operation of the OpenAPI document with the query parameters it
// sends, and refuses an anonymous caller from a far address (the page loads
// without credentials; its data does not).
func TestWebScriptUsesDocumentedAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	doc, err := openapi3.NewLoader().LoadFromData(f.do(ops(request{target: "/api/v1/openapi.json"})).body)
	if err != nil {
		t.Fatal(err)
	}
	templates := map[string]*openapi3.PathItem{}
	param := regexp.MustCompile(`\{[^}]*\}`)
	for p, item := range doc.Paths.Map() {
		templates[param.ReplaceAllString(p, "{}")] = item
	}
	var calls []apiCall
	for _, script := range []string{"/web/app.js", "/web/live.js"} {
		js := f.do(request{target: script})
		if js.code != http.StatusOK {
			t.Fatalf("%s: %d", script, js.code)
		}
		calls = append(calls, scriptCalls(t, string(js.body))...)
	}
	seen := map[string]bool{}
	for _, c := range calls {
		seen[c.method+" "+c.path] = true
		item := templates[c.path]
		if item == nil {
			t.Errorf("the script calls %s %s, which the OpenAPI document does not have", c.method, c.path)
			continue
		}
		op := item.GetOperation(c.method)
		if op == nil {
			t.Errorf("the script calls %s %s; the document has no %s there", c.method, c.path, c.method)
			continue
		}
		for _, name := range c.query {
			if op.Parameters.GetByInAndName("query", name) == nil && item.Parameters.GetByInAndName("query", name) == nil {
				t.Errorf("%s %s: query parameter %q is not documented", c.method, c.path, name)
			}
		}
		target := strings.ReplaceAll(c.path, "{}", "door")
		if a := f.do(request{method: c.method, target: target}); a.code != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s from far: %d, want 401", c.method, target, a.code)
		}
	}
	for _, want := range []string{
		"GET /api/v1/cameras", "GET /api/v1/cameras/{}/recordings", "GET /api/v1/cameras/{}/export.mp4",
		"GET /api/v1/cameras/{}/export.m4s", "GET /api/v1/holds", "POST /api/v1/holds", "DELETE /api/v1/holds/{}",
		"GET /api/v1/cameras/{}/live.ws",
	} {
		if !seen[want] {
			t.Errorf("the parser found no %s in the script (found %v)", want, seen)
		}
	}
}
