package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/camvault/camvault/auth"
)

// runToken is `camvault token -user NAME`: it prints a new HTTP bearer token and the line to add
// to that user's tokens list. Only the token's hash goes into the configuration; the token is
// shown once and cannot be recovered from the file.
func runToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user `name` the token is for (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected argument %q", fs.Arg(0))
	}
	if *user == "" {
		return errors.New("token: -user is required")
	}
	entry, err := tokenEntry(*user, rand.Reader)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = io.WriteString(stdout, entry)
	return err
}

// tokenEntry returns the text runToken prints for name, with the token read from rnd.
func tokenEntry(name string, rnd io.Reader) (string, error) {
	token, hash, err := auth.NewToken(rnd)
	if err != nil {
		return "", err
	}
	u := auth.UserConfig{Name: name, Tokens: []string{hash}}
	if err := (auth.Config{Users: []auth.UserConfig{u}}).Validate(); err != nil {
		return "", err
	}
	return fmt.Sprintf("token: %s\n"+
		"# Give the token to the client (Authorization: Bearer TOKEN, over HTTPS or from loopback);\n"+
		"# it is not stored anywhere. Add this line to the tokens list of user %s:\n"+
		"    tokens: [%s]\n", token, strconv.Quote(name), strconv.Quote(hash)), nil
}
