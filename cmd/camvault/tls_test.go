package main

import (
	"crypto/x509"
	"os"
	"testing"

	"github.com/camvault/camvault/internal/testcert"
)

// servedName returns the common name of the certificate the config serves.
func servedName(t *testing.T, r *certReloader) string {
	t.Helper()
	c, err := r.config().GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

func TestCertReloader(t *testing.T) {
	if r, err := newCertReloader("", ""); r != nil || err != nil || r.config() != nil {
		t.Fatalf("no files: %v %v", r, err)
	}
	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, dir, "first")
	r, err := newCertReloader(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, r); got != "first" {
		t.Fatalf("serves %q", got)
	}
	testcert.Write(t, dir, "renewed")
	if err := r.reload(); err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, r); got != "renewed" {
		t.Fatalf("after reload serves %q", got)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.reload(); err == nil {
		t.Fatal("bad key reloaded")
	}
	if got := servedName(t, r); got != "renewed" {
		t.Fatalf("after a failed reload serves %q", got)
	}
	if _, err := newCertReloader(certFile, keyFile); err == nil {
		t.Fatal("bad key loaded at start")
	}
}
