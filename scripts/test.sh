#!/usr/bin/env bash
# scripts/test.sh: the one command that runs every camvault test, on a fresh Debian machine too.
#
#   bash scripts/test.sh
#
# 1. Installs what the tests need when it is missing, with apt-get (sudo only when not root):
#    a C compiler for -race, etcd (package cluster's tests run a real one), ffmpeg/ffprobe,
#    Chromium (the web page's browser test), GStreamer (gst-launch-1.0 with rtspclientsink and
#    the good/bad/ugly/libav plugins) and Python GObject with GstRtspServer, for the interop tests;
#    and, when it is missing, starts building SeaweedFS's weed (the S3 server of the tiering
#    tests) into ~/.cache/camvault/weed-VERSION/weed in the background, at the lowest priority.
# 2. Runs every check, each even when an earlier one failed, then prints a summary:
#    gofmt, go vet (default and interop tags), go test -race -shuffle=on (unit, scripted-peer and
#    fuzz-corpus replay tests) three times: as is, with -cpu 1, and beside a busy loop on every
#    core (a test that waits on time rather than on what it can observe fails here, not on a
#    newcomer's machine); then it waits for the weed build and runs the interop tests (build tag
#    interop): against ffmpeg, GStreamer and Chromium (internal/interop, rtsp), and against weed
#    (tier, internal/s3test).
# Exits non-zero when any check failed. Go itself must already be installed (see go.mod).
#
# With CI set (CI=true), a tool that is still missing after installation fails the run, and the
# interop tests fail instead of skipping; without CI, they skip what they cannot find.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -t 1 ]]; then
	bold=$'\e[1m' red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' reset=$'\e[0m'
else
	bold='' red='' green='' yellow='' reset=''
fi
section() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
warn() { printf '%swarning:%s %s\n' "$yellow" "$reset" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$red" "$reset" "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

command -v go >/dev/null 2>&1 ||
	die "go not found: install Go $(awk '$1 == "go" {print $2}' go.mod) or newer from https://go.dev/dl/ and put it on PATH"

# Debian's python3 is the one python3-gi installs into; a python3 earlier on PATH (pyenv, venv)
# cannot import gi.
system_python=/usr/bin/python3
[[ -x $system_python ]] || system_python=$(command -v python3 || true)

gst_has() { gst-inspect-1.0 --exists "$1" >/dev/null 2>&1; }
py_has_rtsp_server() {
	[[ -n $system_python ]] && "$system_python" -c '
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer' >/dev/null 2>&1
}

# missing_packages prints the Debian packages that provide what is missing, one per line.
missing_packages() {
	command -v gcc >/dev/null 2>&1 || echo gcc libc6-dev # go test -race needs cgo
	{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || echo ffmpeg
	command -v chromium >/dev/null 2>&1 || echo chromium # the web page's browser test (chromedp)
	command -v ip >/dev/null 2>&1 || echo iproute2       # the network namespace of TestRemotePeer
	command -v curl >/dev/null 2>&1 || echo curl         # scripts/cluster.sh (TestClusterScript) asks etcd for its health
	command -v etcd >/dev/null 2>&1 || echo etcd-server  # the real etcd of package cluster's tests (internal/etcdtest)
	if ! { command -v gst-launch-1.0 && command -v gst-inspect-1.0; } >/dev/null 2>&1; then
		echo gstreamer1.0-tools gstreamer1.0-rtsp gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
			gstreamer1.0-plugins-ugly gstreamer1.0-libav
	else
		gst_has rtspclientsink || echo gstreamer1.0-rtsp
		{ gst_has rtspsrc && gst_has rtph264pay && gst_has matroskademux; } || echo gstreamer1.0-plugins-good
		{ gst_has h264parse && gst_has h265parse; } || echo gstreamer1.0-plugins-bad
		gst_has x264enc || echo gstreamer1.0-plugins-ugly
		{ gst_has avdec_h264 && gst_has avenc_aac; } || echo gstreamer1.0-libav
	fi
	[[ -n $system_python ]] || echo python3
	py_has_rtsp_server || echo python3-gi gir1.2-gst-rtsp-server-1.0
}

install_packages() {
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { warn "not root and no sudo: cannot install $*"; return 1; }
		sudo=(sudo)
	fi
	echo "installing: $*"
	"${sudo[@]}" apt-get update -q &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

section "prerequisites"
mapfile -t packages < <(missing_packages | tr ' ' '\n' | awk 'NF && !seen[$0]++')
if ((${#packages[@]} > 0)); then
	if ! command -v apt-get >/dev/null 2>&1; then
		warn "apt-get not found (not Debian?): install the equivalents of: ${packages[*]}"
	elif ! install_packages "${packages[@]}"; then
		warn "apt-get install failed"
	fi
	mapfile -t packages < <(missing_packages | tr ' ' '\n' | awk 'NF && !seen[$0]++')
fi
if ((${#packages[@]} > 0)); then
	[[ -n ${CI:-} ]] && die "still missing with CI set: ${packages[*]}"
	warn "still missing: ${packages[*]}; interop tests will skip what they need from them"
else
	echo "all tools present"
fi
# SeaweedFS's weed is the S3 server of the tiering tests (internal/s3test). `go install` refuses its
# module (replace directives), so it is built inside a writable copy of the downloaded module, into
# the cache path internal/s3test looks in after CAMVAULT_WEED and PATH. It takes about 9 minutes of
# CPU once, so it runs in the background at the lowest priority (nice 19, its own process group)
# while gofmt, vet and the unit suites run; wait_weed waits for it before the interop phase, whose
# tier and internal/s3test tests need it.
weed_version=v0.0.0-20261109003541-7506e5f91cd6
weed_bin=${XDG_CACHE_HOME:-$HOME/.cache}/camvault/weed-$weed_version/weed
weed_log=${TMPDIR:-/tmp}/camvault-weed-build.$$.log
weed_pid='' weed_started=0
build_weed() {
	local start=$SECONDS src tmp status=0
	src=$(go mod download -json "github.com/seaweedfs/seaweedfs@$weed_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p') &&
		[[ -n $src ]] || return 1
	tmp=$(mktemp -d)
	echo "building weed $weed_version into $weed_bin"
	mkdir -p "$(dirname "$weed_bin")" && cp -r "$src/." "$tmp" && chmod -R u+w "$tmp" &&
		(cd "$tmp" && go build -o "$weed_bin.tmp" ./weed) && mv "$weed_bin.tmp" "$weed_bin" || status=1
	rm -rf "$tmp"
	echo "weed build took $((SECONDS - start)) s"
	return "$status"
}
# start_weed_build runs build_weed in the background: set -m gives it a process group of its own,
# which stop_background kills if the script ends first.
start_weed_build() {
	echo "building weed in the background (nice 19), log: $weed_log"
	weed_started=$SECONDS
	set -m
	(
		renice -n 19 -p "$BASHPID" >/dev/null || true # without renice it still builds, at normal priority
		build_weed
	) >"$weed_log" 2>&1 &
	weed_pid=$!
	set +m
}
# wait_weed waits for the background build and says how much of it overlapped the checks before
# it; a failed build is a failed check with CI set.
wait_weed() {
	[[ -n $weed_pid ]] || return 0
	local waited=$SECONDS status=0
	section "weed build"
	wait "$weed_pid" || status=$?
	weed_pid=''
	local total=$((SECONDS - weed_started)) waiting=$((SECONDS - waited))
	echo "weed build ended (status $status) after $total s, $((total - waiting)) s of them overlapping the checks above; waited $waiting s for it"
	if ((status == 0)); then
		results+=("PASS"$'\t'"$waiting"$'\t'"weed build (waited; $total s in all)")
		return 0
	fi
	tail -n 30 "$weed_log"
	if [[ -n ${CI:-} ]]; then
		failed=1
		results+=("FAIL"$'\t'"$waiting"$'\t'"weed build (log: $weed_log)")
	else
		warn "weed build failed (log: $weed_log); the tests that need it will skip"
		results+=("SKIP"$'\t'"$waiting"$'\t'"weed build (failed; log: $weed_log)")
	fi
}
if [[ -n ${CAMVAULT_WEED:-} ]] || command -v weed >/dev/null 2>&1 || [[ -x $weed_bin ]]; then
	echo "weed present: ${CAMVAULT_WEED:-$(command -v weed || echo "$weed_bin")}"
else
	start_weed_build
fi
echo "$(go version); CI=${CI:-<unset>}"
command -v ffmpeg >/dev/null 2>&1 && echo "$(ffmpeg -version 2>&1 | head -n 1)"
command -v chromium >/dev/null 2>&1 && echo "$(chromium --version 2>/dev/null | head -n 1)"
command -v gst-launch-1.0 >/dev/null 2>&1 && echo "$(gst-launch-1.0 --version 2>&1 | head -n 1)"

# ---------------------------------------------------------------------------------------------
# Checks

results=() # "status<TAB>seconds<TAB>name"
failed=0

# run NAME COMMAND...: runs one check, records its result, never stops the script.
run() {
	local name=$1 start=$SECONDS status=PASS
	shift
	section "$name"
	echo "+ $*"
	"$@" || status=FAIL
	[[ $status == PASS ]] || failed=1
	results+=("$status"$'\t'"$((SECONDS - start))"$'\t'"$name")
}

skip() {
	section "$1"
	echo "skipped: $2"
	results+=("SKIP"$'\t'"0"$'\t'"$1 ($2)")
}

check_gofmt() {
	local files
	files=$(find . -path ./.git -prune -o -name '*.go' -type f -print0 | xargs -0 -r gofmt -l) ||
		{ echo "gofmt failed (a file does not parse?)"; return 1; }
	[[ -z $files ]] && return 0
	echo "gofmt would change these files (run gofmt -w):"
	echo "$files"
	return 1
}

# with_cpu_hog COMMAND...: runs COMMAND while one busy loop per core competes for the CPU.
hog_pids=()
stop_cpu_hog() {
	((${#hog_pids[@]} > 0)) || return 0
	kill "${hog_pids[@]}" 2>/dev/null || true
	wait "${hog_pids[@]}" 2>/dev/null || true
	hog_pids=()
}
# stop_background stops the CPU hog and a weed build still running when the script ends.
stop_background() {
	stop_cpu_hog
	[[ -z $weed_pid ]] || kill -- "-$weed_pid" 2>/dev/null || true
}
trap stop_background EXIT
with_cpu_hog() {
	local status=0 i
	for ((i = 0; i < $(nproc); i++)); do
		(while :; do :; done) &
		hog_pids+=($!)
	done
	echo "CPU hog: ${#hog_pids[@]} busy loops (pids ${hog_pids[*]})"
	"$@" || status=$?
	stop_cpu_hog
	return "$status"
}

run "gofmt" check_gofmt
run "go vet" go vet ./...
run "go vet (interop tag)" go vet -tags interop ./...
run "go test -race" go test -race -shuffle=on -count=1 ./...
# The unit suite again, twice, to shake out tests that race on a slow or busy machine: once on
# one CPU (GOMAXPROCS=1), once with a busy loop on every core of the machine beside it. Both with
# -short: what it leaves out is not about timing and ran in full above (storage's cut at every
# byte of a segment, bench's end-to-end run of real-time ffmpeg streams), 80 s of test time each.
run "go test -race -cpu 1" go test -race -shuffle=on -count=1 -short -cpu 1 ./...
run "go test -race under a CPU hog" with_cpu_hog go test -race -shuffle=on -count=1 -short ./...

# The interop phase runs every package with test files under the build tag interop (found with
# grep, so a new one joins by itself), after the weed build: internal/s3test and the packages that
# import it need weed (without it their tests skip, or fail with CI set). A package whose interop
# tests run ffmpeg, GStreamer, Chromium or a Python camera (real-time media, where a competing test
# binary shows as lag) runs alone, one after another; the others (in-process tests against weed,
# which mostly wait on it) run last, together. Inside a package, up to interop_parallel tests that
# call t.Parallel run at once: they wait on real-time media far more than they compute (12 of
# internal/interop's at -parallel 4 kept 0.7 of a core busy on average). A package that also has
# untagged tests runs only its tagged ones (-run), as the unit phase ran the others.
interop_parallel=4
interop_tag='^//go:build .*\binterop\b'
interop_packages() {
	find . -path ./.git -prune -o -name '*_test.go' -type f -print0 |
		xargs -0 -r grep -lE "$interop_tag" | xargs -r -n 1 dirname | sort -u
}
uses_media_tools() {
	grep -lE "$interop_tag" "$1"/*_test.go |
		xargs grep -qE '"(ffmpeg|ffprobe|gst-launch-1\.0|gst-inspect-1\.0|chromium|/usr/bin/python3)"'
}
# interop_go_test NAME DIR...: runs the interop tests of the DIRs as check NAME; with -run naming
# the tests of their tagged files when one of them has untagged test files too.
interop_go_test() {
	local name=$1 d untagged=0 flags=(-race -count=1 -tags interop -timeout 30m -parallel "$interop_parallel")
	shift
	for d in "$@"; do
		[[ -z $(grep -LE "$interop_tag" "$d"/*_test.go || true) ]] || untagged=1
	done
	if ((untagged)); then
		local names
		names=$(for d in "$@"; do grep -lE "$interop_tag" "$d"/*_test.go; done |
			xargs grep -hoE '^func (Test|Fuzz|Example)[A-Za-z0-9_]*' | awk '$2 != "TestMain" {print $2}' | sort -u | paste -sd '|' || true)
		flags+=("-run=^($names)\$")
	fi
	run "$name" go test "${flags[@]}" "$@"
}
mapfile -t interop_pkgs < <(interop_packages)
wait_weed
alone=() together=()
for pkg in "${interop_pkgs[@]}"; do
	if uses_media_tools "$pkg"; then
		alone+=("$pkg")
	else
		together+=("$pkg")
	fi
done
for pkg in "${alone[@]}"; do
	interop_go_test "interop tests: $pkg" "$pkg"
done
((${#together[@]} == 0)) || interop_go_test "interop tests: ${together[*]}" "${together[@]}"
((${#interop_pkgs[@]} > 0)) || skip "interop tests" "no test file has the build tag interop"

# ---------------------------------------------------------------------------------------------
# Summary

section "summary"
for r in "${results[@]}"; do
	IFS=$'\t' read -r status secs name <<<"$r"
	case $status in
	PASS) color=$green ;;
	FAIL) color=$red ;;
	*) color=$yellow ;;
	esac
	printf '  %s%-4s%s %5ss  %s\n' "$color" "$status" "$reset" "$secs" "$name"
done
if ((failed)); then
	printf '%sFAILED%s\n' "$red$bold" "$reset"
	exit 1
fi
printf '%sall checks passed%s\n' "$green$bold" "$reset"
