package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/camvault/camvault/storage"
)

// webFiles is the timeline page: plain HTML, CSS and JavaScript, embedded
// so that the binary serves it with nothing else installed.
//
//go:embed web
var webFiles embed.FS

// webPolicy is the Content-Security-Policy of the page and its assets:
// everything from this origin only, no inline script or style, media from
// this origin or a blob: (a clip fetched with a bearer token), no framing.
const webPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// webTypes are the Content-Types of the embedded files, by extension; a
// fixed table, so that the system's mime.types cannot change them.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// webAsset is one embedded file, ready to serve.
type webAsset struct {
	name        string
	body        []byte
	contentType string
	etag        string // a strong ETag: the SHA-256 of body, shortened
}

// webAssets are the embedded files by the name they are served under
// ("index.html" is the page at /, "live.html" the one at /live/{camera},
// the others are under /web/). Built once;
// read-only afterwards.
var webAssets = loadWebAssets()

// loadWebAssets reads the embedded files. A file without a known type is a
// build mistake, so it panics at start-up rather than serve it wrongly.
func loadWebAssets() map[string]webAsset {
	out := map[string]webAsset{}
	err := fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := webFiles.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := webTypes[path.Ext(p)]
		if !ok {
			panic("api: embedded web file of unknown type: " + p)
		}
		sum := sha256.Sum256(body)
		name := path.Base(p)
		out[name] = webAsset{name: name, body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic("api: embedded web files: " + err.Error())
	}
	return out
}

// Web page routes, outside routes(): they are not part of /api/v1, its
// OpenAPI document or its rights, and need no authentication (the page
// holds no data; its API calls authenticate).
const (
	webPagePattern  = "GET /{$}"
	webLivePattern  = "GET /live/{camera}"
	webAssetPattern = "GET /web/{file}"
)

// mountWeb registers the timeline page at /, the live page of a camera at
// /live/{camera} and their assets under /web/.
func (s *Server) mountWeb() {
	s.mux.Handle(webPagePattern, s.wrap(route{pattern: webPagePattern, handle: s.handlePage, public: true}))
	s.mux.Handle(webLivePattern, s.wrap(route{pattern: webLivePattern, handle: s.handleLivePage, public: true}))
	s.mux.Handle(webAssetPattern, s.wrap(route{pattern: webAssetPattern, handle: s.handleAsset, public: true}))
}

// handlePage serves the timeline page.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request, _ *caller) error {
	return serveAsset(w, r, "index.html")
}

// handleLivePage serves the bare live page of a camera: its script reads
// the camera from the path and opens its live view, which checks the
// rights. A name that no camera can have is 404.
func (s *Server) handleLivePage(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if storage.ValidCamera(r.PathValue("camera")) != nil {
		return errStatus(http.StatusNotFound, "no such camera name")
	}
	return serveAsset(w, r, "live.html")
}

// handleAsset serves a script, style sheet or icon of the pages; the pages
// themselves only at their paths.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request, _ *caller) error {
	name := r.PathValue("file")
	if path.Ext(name) == ".html" {
		return errStatus(http.StatusNotFound, "no such file")
	}
	return serveAsset(w, r, name)
}

// serveAsset writes the embedded file name with its type, the security
// headers and its ETag; the browser revalidates each load (no-cache) and
// gets 304 while the binary is the same.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) error {
	a, ok := webAssets[name]
	if !ok {
		return errStatus(http.StatusNotFound, "no such file")
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Security-Policy", webPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	return nil
}
