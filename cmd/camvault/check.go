package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/camvault/camvault/storage"
)

// Exit statuses of camvault check (and of every subcommand's error).
const (
	exitProblems = 1 // check: problems remain; others: any error
	exitError    = 2 // check: it could not run
)

// exitStatusError is an error that asks for a given exit status.
type exitStatusError struct {
	code int
	err  error
}

func (e *exitStatusError) Error() string { return e.err.Error() }
func (e *exitStatusError) Unwrap() error { return e.err }

// exitCode returns the process exit status for run's error: 0 for none or
// -h, the code an exitStatusError asks for, else 1.
func exitCode(err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if e, ok := errors.AsType[*exitStatusError](err); ok {
		return e.code
	}
	return 1
}

// runCheck verifies the index of a stopped data directory against its
// files, and with -repair fixes what is safe. Exit status 0: clean (after
// repair); 1: problems remain; 2: the check could not run.
func runCheck(args []string, stdout, stderr io.Writer) error {
	var repair bool
	cfg, err := parseConfigFlags("check", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&repair, "repair", false, "fix what is safe: drop entries of missing files, re-derive wrong seek tables "+
			"from the files, cut torn tails, adopt orphan files, seal open segments (no file is deleted)")
	})
	if err != nil {
		return &exitStatusError{exitError, err}
	}
	rep, err := storage.Check(cfg.storageConfig(newLogger(cfg.Log, stderr)), storage.CheckOptions{Repair: repair})
	if err != nil {
		return &exitStatusError{exitError, err}
	}
	printCheckReport(stdout, &rep)
	if n := rep.Remaining(); n > 0 {
		return &exitStatusError{exitProblems, fmt.Errorf("check: %d problems remain", n)}
	}
	return nil
}

// printCheckReport writes a summary line, the problems by kind, then one
// line per listed problem.
func printCheckReport(w io.Writer, rep *storage.CheckReport) {
	fmt.Fprintf(w, "checked %d segments (%d fragments) and %d files (%d bytes) in %v: %d problems, %d fixed\n",
		rep.Segments, rep.Fragments, rep.Files, rep.Bytes, rep.Took.Round(time.Millisecond), rep.Total(), rep.Fixed)
	if rep.Total() == 0 {
		return
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(rep.Counts)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, rep.Counts[k]))
	}
	fmt.Fprintln(w, "by kind:", strings.Join(kinds, ", "))
	for _, p := range rep.Problems {
		fmt.Fprintln(w, p)
	}
	if n := rep.Total() - len(rep.Problems); n > 0 {
		fmt.Fprintf(w, "... and %d more problems not listed\n", n)
	}
}
