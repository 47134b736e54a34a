package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"

	"github.com/camvault/camvault/auth"
)

// maxPasswordLen bounds the password read by camvault passwd.
const maxPasswordLen = 1024

// runPasswd prints the entry of one user for the users section: its name
// and the argon2id, Digest MD5 and Digest SHA-256 hashes of a password
// read from stdin (without echo when stdin is a terminal). The password
// itself is never printed.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user `name` (required)")
	realm := fs.String("realm", defaultAuthConfig().Realm, "Digest `realm`: the auth.realm of the config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("passwd: unexpected argument %q", fs.Arg(0))
	}
	if *user == "" {
		return errors.New("passwd: -user is required")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	entry, err := userEntry(*user, *realm, password)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	_, err = io.WriteString(stdout, entry)
	return err
}

// userEntry returns the YAML lines of a users list element for name.
func userEntry(name, realm, password string) (string, error) {
	h, err := auth.HashPassword(password, auth.DefaultArgon2Params(), rand.Reader)
	if err != nil {
		return "", err
	}
	u := auth.UserConfig{Name: name, PasswordArgon2id: h.String(),
		Permissions: []auth.Permission{{Action: "api"}}} // a placeholder right, for Validate only
	if u.DigestMD5, err = auth.DigestHA1(auth.DigestMD5, name, realm, password); err != nil {
		return "", err
	}
	if u.DigestSHA256, err = auth.DigestHA1(auth.DigestSHA256, name, realm, password); err != nil {
		return "", err
	}
	if err := (auth.Config{Users: []auth.UserConfig{u}}).Validate(); err != nil {
		return "", err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "  - name: %s\n", strconv.Quote(name))
	fmt.Fprintf(&b, "    password_argon2id: %s\n", strconv.Quote(u.PasswordArgon2id))
	fmt.Fprintf(&b, "    digest_md5: %s      # realm %s\n", strconv.Quote(u.DigestMD5), strconv.Quote(realm))
	fmt.Fprintf(&b, "    digest_sha256: %s\n", strconv.Quote(u.DigestSHA256))
	b.WriteString("    permissions: []       # e.g. - {action: read, cameras: [\"*\"]}\n")
	return b.String(), nil
}

// readPassword reads a password: from a terminal twice without echo, or
// else the first line of r.
func readPassword(r io.Reader, prompt io.Writer) (string, error) {
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readTerminalPassword(int(f.Fd()), prompt)
	}
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxPasswordLen+2), maxPasswordLen+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	} else if len(line) > maxPasswordLen {
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLen)
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return checkPassword(line)
}

func readTerminalPassword(fd int, prompt io.Writer) (string, error) {
	fmt.Fprint(prompt, "Password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(prompt, "Again: ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if !bytes.Equal(first, second) {
		return "", errors.New("the passwords differ")
	}
	return checkPassword(string(first))
}

func checkPassword(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty password")
	case len(p) > maxPasswordLen:
		return "", fmt.Errorf("password longer than %d bytes", maxPasswordLen)
	}
	return p, nil
}
