package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// modulePath is the camvault module; its packages are named relative to it below.
const modulePath = "github.com/camvault/camvault"

// depRule is the dependency contract of one top-level package and its subpackages
// (DESIGN.md "Packages", STYLE.md "Package map and dependency direction").
type depRule struct {
	pkg string // directory under the module root
	// camvault lists the camvault packages (and their subpackages) its non-test code may import
	// directly, besides its own subpackages.
	camvault []string
	// modules lists the third-party modules its non-test code may import directly. What those
	// modules and the allowed camvault packages import in turn is their own business.
	modules []string
	// never lists camvault packages that must not appear anywhere among its dependencies.
	never []string
	// noStd lists standard packages its own code must not import (media does no I/O).
	noStd []string
	// planned marks a package that DESIGN.md names but that does not exist yet: its rule is
	// skipped until the package has Go files, and then planned must be removed. A rule for any
	// other package that has no Go files fails, so that a moved or renamed package cannot leave
	// a rule that silently checks nothing.
	planned bool
}

// testHelpers are the test-only helper packages (and their subpackages): tests may import
// them, product code never. Any package under an internal/ directory whose name ends in
// "test" is one too (internal/rtsptest, internal/alloctest ...), listed here or not.
var testHelpers = []string{
	"internal/clip",
	"internal/interop",
	"internal/testcert",
	"internal/alloctest",
	"internal/rtsptest",
}

// isTestHelper reports whether the import path is a camvault test-only helper package.
func isTestHelper(importPath string) bool {
	if !strings.HasPrefix(importPath, modulePath+"/") {
		return false
	}
	p := rel(importPath)
	for _, h := range testHelpers {
		if under(p, h) {
			return true
		}
	}
	return (strings.HasPrefix(p, "internal/") || strings.Contains(p, "/internal/")) &&
		strings.HasSuffix(path.Base(p), "test")
}

const (
	modSDP  = "github.com/pion/sdp/v3"
	modRTP  = "github.com/pion/rtp"
	modMP4  = "github.com/Eyevinn/mp4ff"
	modBolt = "go.etcd.io/bbolt"
	modCron = "github.com/robfig/cron/v3"
	modX    = "golang.org/x/crypto"
	modProm = "github.com/prometheus/client_golang"
	// modPromModel is the data model a prometheus.Metric writes itself into.
	modPromModel = "github.com/prometheus/client_model"
	// modPromCommon is its text format (expfmt), which metrics writes the registry with.
	modPromCommon = "github.com/prometheus/common"
	// modWebSocket is the WebSocket of RTSP over WebSocket (rtsp.onvif.org) on the HTTP port
	// and of the web page's live view.
	modWebSocket = "github.com/coder/websocket"
)

// wireNoStd are the standard packages the RTSP wire packages must not import: they are
// functions over bytes, with no I/O, no logging and no shared state.
var wireNoStd = []string{"net", "net/http", "os", "os/exec", "log/slog", "log", "sync", "sync/atomic"}

// settingsPkg is the leaf every package's Config validation shares (FieldError, the range
// checks, the units of spans and sizes); the pure wire packages may use it because it is pure
// too.
const settingsPkg = "internal/settings"

// lexPkg is the RTSP grammar's character classes, shared by the wire packages and the server.
const lexPkg = "rtsp/internal/lex"

// depRules are the arrows. Edit them together with DESIGN.md.
var depRules = []depRule{
	{
		pkg:   settingsPkg,
		noStd: wireNoStd,
		never: []string{"rtsp", "media", "storage", "recorder", "ingest", "playback", "auth", "api"},
	},
	{pkg: "rtsp", camvault: []string{settingsPkg}, modules: []string{modSDP}},
	// The RTSP wire packages are pure: no sockets, files or logs (and no goroutines, see
	// TestWireNoGoroutines).
	{pkg: "rtsp/base", camvault: []string{lexPkg, settingsPkg}, noStd: wireNoStd},
	{pkg: "rtsp/headers", camvault: []string{"rtsp/base", lexPkg}, noStd: wireNoStd},
	{pkg: "rtsp/auth", camvault: []string{"rtsp/base", lexPkg, settingsPkg}, noStd: wireNoStd},
	// RTSP over HTTP: the tunnel requests, answers and the POST body's base64 stream.
	{pkg: "rtsp/tunnel", camvault: []string{"rtsp/base"}, noStd: wireNoStd},
	// The character classes the wire packages and the server share; Go's internal rule keeps
	// it inside rtsp.
	{pkg: lexPkg, noStd: wireNoStd},
	{
		pkg:      "media",
		camvault: []string{settingsPkg},
		modules:  []string{modRTP, modSDP, modMP4},
		noStd:    []string{"net", "net/http", "os", "os/exec", "syscall"},
	},
	{
		pkg:      "storage",
		camvault: []string{settingsPkg},
		modules:  []string{modBolt, modMP4},
		never:    []string{"rtsp", "recorder", "ingest", "playback", "api"},
		noStd:    []string{"net", "net/http"},
	},
	{
		// The fMP4 codec is pure: functions over bytes (storage/fmp4/doc.go).
		pkg:   "storage/fmp4",
		noStd: []string{"net", "net/http", "os", "os/exec", "syscall", "log/slog"},
	},
	{
		pkg:      "recorder",
		camvault: []string{"media", "storage", settingsPkg},
		modules:  []string{modRTP, modSDP, modMP4}, // the media libraries, never bbolt
		never:    []string{"rtsp", "ingest", "playback", "api"},
		noStd:    []string{"net", "net/http"},
	},
	{
		pkg:      "ingest",
		camvault: []string{"rtsp", "media", settingsPkg},
		modules:  []string{modRTP, modSDP, modCron},
		never:    []string{"storage", "recorder", "playback", "api"}, // the recorder comes in through an interface
	},
	{
		// The live relay is a Sink around the recorder's (ingest) and a Presentation (rtsp); it
		// never reads the archive.
		pkg:      "live",
		camvault: []string{"rtsp", "media", "ingest", settingsPkg},
		never:    []string{"storage", "recorder", "playback", "api"},
	},
	{
		pkg:      "playback",
		camvault: []string{"rtsp", "media", "storage", settingsPkg},
		modules:  []string{modRTP, modSDP, modMP4},
		never:    []string{"ingest", "recorder", "api"},
	},
	{
		// etcd membership and camera ownership know nothing of media or storage (DESIGN.md
		// "cluster"); cmd wires their events into ingest and the recorder.
		pkg:      "cluster",
		camvault: []string{settingsPkg},
		modules:  []string{"go.etcd.io/etcd/client/v3", "go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/client/pkg/v3", "go.uber.org/zap", "google.golang.org/grpc"},
		never:    []string{"rtsp", "media", "storage", "recorder", "ingest", "playback", "live", "api", "tier"},
	},
	{
		// Tiering uploads what storage sealed; the cluster's ownership check comes in as a
		// function (tier.Config.Verify), never as an import.
		pkg:      "tier",
		camvault: []string{"storage", settingsPkg},
		modules:  []string{"github.com/minio/minio-go/v7"},
		never:    []string{"rtsp", "cluster", "media", "recorder", "ingest", "playback", "live", "api"},
	},
	{
		// Node-to-node reads of segments not uploaded yet: storage's index and files over
		// HTTP; who owns a camera and how to reach a node come in as functions
		// (peer.NewRemote), never as an import of cluster.
		pkg:      "peer",
		camvault: []string{"storage", settingsPkg},
		never:    []string{"rtsp", "cluster", "tier", "media", "recorder", "ingest", "playback", "live", "api"},
	},
	{
		// users and rights know nothing of the project (DESIGN.md "users/rights").
		pkg:      "auth",
		camvault: []string{settingsPkg},
		modules:  []string{modX},
		never:    []string{"rtsp", "media", "storage", "recorder", "ingest", "playback", "api"},
		noStd:    []string{"net", "net/http", "os", "os/exec"},
	},
	{
		// camvault bench is linked into the binary: it drives camvault over the wire and reads
		// what was recorded, but never reaches into ingest or playback. push -tier runs a weed
		// (internal/weed), makes its bucket (minio-go) and reads camvault's /metrics (expfmt).
		pkg:      "internal/bench",
		camvault: []string{"rtsp", "media", "auth", "storage", "recorder", "internal/weed"},
		modules:  []string{modMP4, "github.com/minio/minio-go/v7", modPromCommon},
		never:    []string{"ingest", "playback", "api"},
	},
	{
		// HTTP reads views of storage, ingest (api/metrics: pull states) and the recorder and
		// rights from auth; api/export reads sample entries (media) and fragments (storage/fmp4,
		// mp4ff's box layout); the web page's live views subscribe to the live relay (live,
		// through api.LiveSource) and api/liveview muxes its RTP (media, storage/fmp4) for a
		// WebSocket. The RTSP server and playback come in through interfaces and plain types
		// declared in api and filled by cmd (api.Sessions, api/metrics.RTSPStats, api.Tunnels
		// for the connections of RTSP over HTTP and WebSocket it hands over): rtsp only through
		// ingest and live, never imported directly.
		pkg:      "api",
		camvault: []string{"storage", "ingest", "recorder", "auth", "media", "live", settingsPkg},
		modules:  []string{modProm, modPromModel, modPromCommon, modMP4, modRTP, modWebSocket},
		never:    []string{"playback"},
	},
	{
		// The live view's muxer is pure: RTP in, fMP4 out, no sockets, files or goroutines.
		pkg:      "api/liveview",
		camvault: []string{"media", "storage/fmp4"},
		modules:  []string{modRTP},
		never:    []string{"rtsp", "live", "ingest", "recorder", "playback", "api/export", "api/metrics"},
		noStd:    []string{"net", "net/http", "os", "os/exec", "log/slog", "sync"},
	},
	{
		// MP4 export reads recordings through storage alone.
		pkg:      "api/export",
		camvault: []string{"storage", "media", settingsPkg},
		modules:  []string{modMP4},
		never:    []string{"rtsp", "playback", "ingest", "recorder"},
	},
}

// listedPackage is the part of `go list -json` output that the rules need.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Imports    []string
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// TestDependencies fails when a package imports across an arrow of depRules, or imports a
// test-only helper. Only a rule marked planned may name a package that does not exist.
func TestDependencies(t *testing.T) {
	t.Parallel()
	pkgs := goListDeps(t, depRules)
	for _, rule := range depRules {
		t.Run(rule.pkg, func(t *testing.T) {
			t.Parallel()
			own := ownPackages(pkgs, rule.pkg)
			switch {
			case len(own) == 0 && rule.planned:
				t.Skipf("package %s is planned and does not exist yet (no non-test Go files)", rule.pkg)
			case len(own) == 0:
				t.Fatalf("package %s has no non-test Go files: fix or drop its rule, or mark it planned", rule.pkg)
			case rule.planned:
				t.Errorf("package %s exists now: remove planned from its rule", rule.pkg)
			}
			for _, p := range own {
				if msg := loadError(p); msg != "" {
					if strings.Contains(msg, "import cycle") {
						t.Fatalf("%s: %s", p.ImportPath, msg)
					}
					t.Skipf("cannot check %s while it does not load: %s", p.ImportPath, msg)
				}
			}
			for _, p := range own {
				for _, imp := range p.Imports {
					if why := rule.refuse(imp, pkgs); why != "" {
						t.Errorf("%s imports %s: %s", rel(p.ImportPath), rel(imp), why)
					}
				}
			}
			for _, bad := range rule.never {
				for _, p := range own {
					if chain := importChain(pkgs, p.ImportPath, modulePath+"/"+bad); chain != nil {
						t.Errorf("%s must never depend on %s, but %s", rule.pkg, bad, strings.Join(chain, " -> "))
						break
					}
				}
			}
		})
	}
}

// refuse returns why a direct import of imp breaks the rule, or "".
func (r depRule) refuse(imp string, pkgs map[string]*listedPackage) string {
	if imp == "C" {
		return "cgo is not allowed (camvault is one static binary)"
	}
	if isTestHelper(imp) {
		return "test-only helper: product code must not import it"
	}
	if r.owns(imp) {
		return ""
	}
	p := pkgs[imp]
	switch {
	case p == nil:
		return "not listed by go list"
	case p.Standard:
		if slices.Contains(r.noStd, imp) {
			return "not allowed in " + r.pkg + " (see depRules noStd)"
		}
		return ""
	case strings.HasPrefix(imp, modulePath+"/"):
		for _, c := range r.camvault {
			if under(rel(imp), c) {
				return ""
			}
		}
		return "camvault packages allowed here: " + listOrNone(r.camvault)
	case p.Module == nil:
		return "no module"
	case slices.Contains(r.modules, p.Module.Path):
		return ""
	default:
		return "module " + p.Module.Path + " is not allowed; allowed: " + listOrNone(r.modules)
	}
}

// owns reports whether the import path is the rule's package or one of its subpackages.
func (r depRule) owns(importPath string) bool {
	return strings.HasPrefix(importPath, modulePath+"/") && under(rel(importPath), r.pkg)
}

// under reports whether the relative package path p is dir or below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// rel strips the module path from a camvault import path.
func rel(importPath string) string { return strings.TrimPrefix(importPath, modulePath+"/") }

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// ownPackages returns the listed packages that belong to dir.
func ownPackages(pkgs map[string]*listedPackage, dir string) []*listedPackage {
	var out []*listedPackage
	for path, p := range pkgs {
		if strings.HasPrefix(path, modulePath+"/") && under(rel(path), dir) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *listedPackage) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return out
}

func loadError(p *listedPackage) string {
	if p.Error != nil {
		return p.Error.Err
	}
	for _, e := range p.DepsErrors {
		return e.Err
	}
	return ""
}

// importChain returns the shortest import path from -> ... -> a package at or under target
// (relative names), or nil when there is none.
func importChain(pkgs map[string]*listedPackage, from, target string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == target || strings.HasPrefix(cur, target+"/") {
			var chain []string
			for n := cur; n != ""; n = prev[n] {
				chain = append(chain, rel(n))
			}
			slices.Reverse(chain)
			return chain
		}
		if p := pkgs[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return nil
}

// TestBinaryHasNoTestHelpers fails when a test-only helper is linked into camvault: any
// non-test Go file of a package reachable from ./cmd/camvault imports one.
func TestBinaryHasNoTestHelpers(t *testing.T) {
	t.Parallel()
	pkgs := goList(t, "./cmd/camvault")
	for _, chain := range testHelperChains(pkgs, modulePath+"/cmd/camvault") {
		t.Errorf("test-only helper in the binary: %s", chain)
	}
}

// TestNoProductImportsTestHelper fails when the non-test code of any camvault package that is
// not itself a test-only helper imports one, whether a depRule covers the package or not: a
// new package gets the rule before it gets an arrow.
func TestNoProductImportsTestHelper(t *testing.T) {
	t.Parallel()
	for _, bad := range helperImports(goList(t, "./...")) {
		t.Errorf("product code imports a test-only helper: %s", bad)
	}
}

// helperImports returns "pkg -> helper" for each direct import of a test-only helper by a
// camvault package that is not one. go list's Imports hold the non-test files' imports only.
func helperImports(pkgs map[string]*listedPackage) []string {
	var out []string
	for path, p := range pkgs {
		if !strings.HasPrefix(path, modulePath+"/") || isTestHelper(path) {
			continue
		}
		for _, imp := range p.Imports {
			if isTestHelper(imp) {
				out = append(out, rel(path)+" -> "+rel(imp))
			}
		}
	}
	slices.Sort(out)
	return out
}

// testHelperChains returns, for each test-only helper that root reaches, how it reaches it.
func testHelperChains(pkgs map[string]*listedPackage, root string) []string {
	var chains []string
	for p := range pkgs {
		if !isTestHelper(p) {
			continue
		}
		if chain := importChain(pkgs, root, p); chain != nil {
			chains = append(chains, strings.Join(chain, " -> "))
		}
	}
	slices.Sort(chains)
	return chains
}

// goListDeps runs `go list -e -deps -json` at the module root on the rules' packages and
// returns every listed package by import path. Patterns that match nothing yet are fine.
func goListDeps(t *testing.T, rules []depRule) map[string]*listedPackage {
	t.Helper()
	var patterns []string
	for _, r := range rules {
		patterns = append(patterns, "./"+r.pkg+"/...")
	}
	return goList(t, patterns...)
}

// goList runs `go list -e -deps -json` at the module root on patterns and returns every
// listed package (the patterns' non-test dependencies included) by import path.
func goList(t *testing.T, patterns ...string) map[string]*listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err) // go test puts GOROOT/bin first in PATH
	}
	args := []string{"list", "-e", "-deps", "-json=ImportPath,Standard,Module,Imports,Error,DepsErrors"}
	args = append(args, patterns...)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// TestDepRulesSelfCheck makes sure that the checker refuses what it should, on a synthetic graph.
func TestDepRulesSelfCheck(t *testing.T) {
	t.Parallel()
	pkg := func(path string, std bool, mod string, imports ...string) *listedPackage {
		p := &listedPackage{ImportPath: path, Standard: std, Imports: imports}
		if mod != "" {
			p.Module = &struct{ Path string }{mod}
		}
		return p
	}
	cv := func(s string) string { return modulePath + "/" + s }
	pkgs := map[string]*listedPackage{}
	for _, p := range []*listedPackage{
		pkg("net", true, ""),
		pkg("os", true, ""),
		pkg(modSDP, false, modSDP),
		pkg(modBolt, false, modBolt),
		pkg(cv("storage"), false, modulePath, modBolt, "os"),
		pkg(cv("media"), false, modulePath, modSDP, cv("storage")),
		pkg(cv("ingest"), false, modulePath, cv("media"), "net"),
		pkg(cv("rtsp/internal/wire"), false, modulePath, "net"),
		pkg(modX, false, modX),
		pkg(cv("auth"), false, modulePath, modX),
		pkg(cv("rtsp"), false, modulePath, modSDP),
		pkg(modMP4, false, modMP4),
		pkg(cv("internal/clip"), false, modulePath, cv("internal/bench")),
		pkg(cv("internal/rtsptest"), false, modulePath, cv("rtsp")),
		pkg(cv("internal/fixturetest"), false, modulePath),
		pkg(cv("recorder"), false, modulePath, cv("storage"), cv("internal/fixturetest")),
		pkg(cv("internal/bench"), false, modulePath, cv("rtsp"), cv("recorder"), modMP4),
		pkg(cv("cmd/camvault"), false, modulePath, cv("internal/bench"), cv("ingest")),
		pkg("log/slog", true, ""),
		pkg("sync", true, ""),
		pkg("bufio", true, ""),
		pkg(cv("rtsp/base"), false, modulePath, "bufio", cv(lexPkg)),
		pkg(cv(lexPkg), false, modulePath, "io"),
		pkg(cv("live"), false, modulePath, cv("rtsp")),
		pkg(modWebSocket, false, modWebSocket),
	} {
		pkgs[p.ImportPath] = p
	}
	rule := func(name string) depRule {
		i := slices.IndexFunc(depRules, func(r depRule) bool { return r.pkg == name })
		return depRules[i]
	}
	for _, tc := range []struct {
		rule, imp string
		refused   bool
	}{
		{"rtsp", "net", false},
		{"rtsp", modSDP, false},
		{"rtsp", cv("rtsp/internal/wire"), false},
		{"rtsp", cv("media"), true},
		{"rtsp", modBolt, true},
		{"rtsp", "C", true},
		{"media", "os", true},
		{"media", cv("storage"), true},
		{"storage", modBolt, false},
		{"ingest", cv("media"), false},
		{"ingest", cv("storage"), true},
		{"auth", modX, false},
		{"auth", cv("rtsp"), true},
		{"auth", "net", true},
		{"rtsp", cv("auth"), true},
		{"rtsp", modX, true},
		{"internal/bench", cv("rtsp"), false},
		{"internal/bench", cv("recorder"), false},
		{"internal/bench", modMP4, false},
		{"internal/bench", cv("ingest"), true},
		{"internal/bench", cv("internal/clip"), true},
		{"internal/bench", cv("internal/rtsptest"), true},
		{"storage", cv("internal/fixturetest"), true},
		{"rtsp", cv("internal/rtsptest"), true},
		{"rtsp", cv("rtsp/base"), false},
		{"rtsp/base", "bufio", false},
		{"rtsp/base", "net", true},
		{"rtsp/base", "log/slog", true},
		{"rtsp/base", "sync", true},
		{"rtsp/base", cv("rtsp"), true},
		{"rtsp/headers", cv("rtsp/base"), false},
		{"rtsp/headers", cv("rtsp"), true},
		{"rtsp/auth", "os", true},
		{"rtsp/auth", cv("auth"), true},
		{"rtsp/base", cv(lexPkg), false},
		{"rtsp/headers", cv(lexPkg), false},
		{lexPkg, "net", true},
		{lexPkg, "sync", true},
		{lexPkg, cv("rtsp/base"), true},
		{"api", cv("live"), false},
		{"api", modWebSocket, false},
		{"api", cv("rtsp"), true},
		{"api/liveview", cv("live"), true},
		{"api/liveview", modWebSocket, true},
		{"api/liveview", "net", true},
	} {
		if got := rule(tc.rule).refuse(tc.imp, pkgs) != ""; got != tc.refused {
			t.Errorf("%s importing %s: refused=%v, want %v", tc.rule, tc.imp, got, tc.refused)
		}
	}
	chain := importChain(pkgs, cv("ingest"), cv("storage"))
	if want := []string{"ingest", "media", "storage"}; !slices.Equal(chain, want) {
		t.Errorf("importChain = %v, want %v", chain, want)
	}
	if chain := importChain(pkgs, cv("storage"), cv("media")); chain != nil {
		t.Errorf("importChain found %v where there is none", chain)
	}
	chains := testHelperChains(pkgs, cv("cmd/camvault"))
	if want := []string{"cmd/camvault -> internal/bench -> recorder -> internal/fixturetest"}; !slices.Equal(chains, want) {
		t.Errorf("testHelperChains = %q, want %q", chains, want)
	}
	pkgs[cv("newpkg")] = pkg(cv("newpkg"), false, modulePath, cv("internal/rtsptest"), cv("media"))
	pkgs[cv("internal/newtest")] = pkg(cv("internal/newtest"), false, modulePath, cv("internal/rtsptest"))
	if slices.ContainsFunc(depRules, func(r depRule) bool { return r.pkg == "newpkg" }) {
		t.Fatal("newpkg has a depRule; the case below is about a package without one")
	}
	want := []string{"newpkg -> internal/rtsptest", "recorder -> internal/fixturetest"}
	if got := helperImports(pkgs); !slices.Equal(got, want) {
		t.Errorf("helperImports = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"internal/clip", true},
		{"internal/clip/sub", true},
		{"internal/interop", true},
		{"internal/testcert", true},
		{"internal/alloctest", true},
		{"internal/rtsptest", true},
		{"internal/newtest", true},
		{"rtsp/internal/wiretest", true},
		{"internal/bench", false},
		{"internal/clipper", false},
		{"storage/internal/fmp4", false},
		{"cmd/camvault", false},
	} {
		if got := isTestHelper(cv(tc.path)); got != tc.want {
			t.Errorf("isTestHelper(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if isTestHelper("example.com/other/internal/footest") {
		t.Error("isTestHelper claims a package of another module")
	}
}

// wirePackages are the wire and codec directories whose non-test code must start no
// goroutines.
var wirePackages = []string{"rtsp/base", "rtsp/headers", "rtsp/auth", "rtsp/tunnel", lexPkg, "storage/fmp4", "api/liveview"}

// TestWireNoGoroutines fails when a wire package's non-test code has a go statement: the
// codecs are functions over bytes, and goroutines belong to the server and client on top
// (STYLE.md "Pure codecs, stateful actors").
func TestWireNoGoroutines(t *testing.T) {
	t.Parallel()
	for _, dir := range wirePackages {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, filepath.Join("..", "..", dir), func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", dir, err)
		}
		if len(pkgs) == 0 {
			t.Errorf("%s has no Go files", dir)
		}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, pos := range goStatements(fset, f) {
					t.Errorf("%s: go statement in wire package %s", pos, dir)
				}
			}
		}
	}
}

// goStatements returns the positions of the go statements in f.
func goStatements(fset *token.FileSet, f *ast.File) []token.Position {
	var out []token.Position
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GoStmt); ok {
			out = append(out, fset.Position(g.Pos()))
		}
		return true
	})
	return out
}

// TestGoStatementsSelfCheck makes sure that goStatements finds go statements, also nested in
// function literals, and nothing else.
func TestGoStatementsSelfCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"none", "package p\nfunc f() { g() }\nfunc g() {}", 0},
		{"top level", "package p\nfunc f() { go g() }\nfunc g() {}", 1},
		{"in a literal", "package p\nvar v = func() { go func() {}(); go g() }\nfunc g() {}", 2},
		{"word in a string", "package p\nvar s = \"go g()\"", 0},
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", tc.src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(goStatements(fset, f)); got != tc.want {
			t.Errorf("%s: %d go statements, want %d", tc.name, got, tc.want)
		}
	}
}
