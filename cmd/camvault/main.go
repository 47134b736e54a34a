// Command camvault is a network video recorder: cameras push RTSP to it (and
// later it pulls from them), it writes fragmented MP4 segments indexed in
// bbolt, and it serves them back over RTSP.
//
// The subcommands are listed in usage below (camvault help prints it).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/camvault/camvault/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if code := exitCode(err); code != 0 {
		fmt.Fprintln(os.Stderr, "camvault:", err)
		os.Exit(code)
	}
}

// usage lists every subcommand that run dispatches (TestUsageListsEverySubcommand).
const usage = `usage:
  camvault [serve] [-config FILE] [-data DIR] [-rtsp ADDR] [-http ADDR] [-log-format text|json] [-pprof ADDR]
  camvault reindex [-config FILE] [-data DIR]
  camvault check [-repair] [-config FILE] [-data DIR]
  camvault retention [-dry-run] [-config FILE] [-data DIR]
  camvault bench push|play|pull|live [-h for flags]
  camvault passwd -user NAME [-realm REALM]   (password on stdin; prints the users: entry)
  camvault token -user NAME                   (prints a new HTTP bearer token and its tokens: line)
  camvault version
  camvault help
`

// run is the whole program; tests drive it with arguments.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "reindex":
		return runReindex(args, stdout, stderr)
	case "check":
		return runCheck(args, stdout, stderr)
	case "retention":
		return runRetention(args, stdout, stderr)
	case "bench":
		return bench.Run(ctx, args, stdout, stderr)
	case "passwd":
		return runPasswd(args, os.Stdin, stdout, stderr)
	case "token":
		return runToken(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "camvault", versionString())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// parseConfigFlags parses the shared config flags of a subcommand, plus the
// ones extra defines.
func parseConfigFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*fileConfig, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	registerConfigFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	return configFromFlags(fs)
}
