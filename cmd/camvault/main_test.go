package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestUsageListsEverySubcommand: the usage text names exactly the subcommands that run's
// switch dispatches, read from main.go itself so that a new case cannot be forgotten.
func TestUsageListsEverySubcommand(t *testing.T) {
	t.Parallel()
	dispatched := dispatchedCommands(t)
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^  camvault \[?([a-z]+)`).FindAllStringSubmatch(usage, -1) {
		listed = append(listed, m[1])
	}
	slices.Sort(dispatched)
	slices.Sort(listed)
	if !slices.Equal(dispatched, listed) {
		t.Errorf("run dispatches %v, usage lists %v", dispatched, listed)
	}
	if len(dispatched) < 7 {
		t.Errorf("found only %v in run's switch; did main.go change shape?", dispatched)
	}

	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"help"}, &stdout, &stderr); err != nil || stdout.String() != usage {
		t.Errorf("help: %v, printed %q", err, stdout.String())
	}
	err := run(t.Context(), []string{"nosuch"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `unknown command "nosuch"`) || stderr.String() != usage {
		t.Errorf("unknown command: %v, stderr %q", err, stderr.String())
	}
}

// dispatchedCommands returns the string cases of the switch in main.go's run.
func dispatchedCommands(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "run" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					names = append(names, s)
				}
			}
			return true
		})
	}
	return names
}
