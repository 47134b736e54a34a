package auth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/camvault/camvault/auth"
)

// TestCredentialCache: a pair that passed argon2id is answered from the
// cache until the TTL passes, with every slot taken (so without running
// argon2id); a wrong password never is; the cache holds at most its size
// (review finding 14).
func TestCredentialCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(t)
		for i := range 3 {
			cfg.Users = append(cfg.Users, auth.UserConfig{Name: "u" + strconv.Itoa(i), PasswordArgon2id: testPHC(t, "pw"),
				Permissions: []auth.Permission{{Action: "api"}}})
		}
		cfg.CredentialCacheSize, cfg.CredentialCacheTTL = 2, time.Minute
		a, err := auth.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := a.CheckPassword(t.Context(), "viewer", "secret"); err != nil || u.Name() != "viewer" {
			t.Fatalf("first check: %v, %v", u, err)
		}
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		release := auth.TakeSlots(a)
		if u, err := a.CheckPassword(cancelled, "viewer", "secret"); err != nil || u.Name() != "viewer" {
			t.Errorf("cached check with no slot free: %v, %v", u, err)
		}
		if _, err := a.CheckPassword(cancelled, "viewer", "Secret"); !errors.Is(err, context.Canceled) {
			t.Errorf("wrong password did not wait for argon2id: %v", err)
		}
		time.Sleep(time.Minute)
		if _, err := a.CheckPassword(cancelled, "viewer", "secret"); !errors.Is(err, context.Canceled) {
			t.Errorf("after the TTL the pair is still cached: %v", err)
		}
		release()
		for i := range 3 {
			if _, err := a.CheckPassword(t.Context(), "u"+strconv.Itoa(i), "pw"); err != nil {
				t.Fatal(err)
			}
		}
		if n := auth.CachedCredentials(a); n > 2 {
			t.Errorf("cache holds %d pairs, size 2", n)
		}
	})
}

// TestCredentialCacheValidate: the cache's settings are checked.
func TestCredentialCacheValidate(t *testing.T) {
	for _, c := range []auth.Config{{CredentialCacheSize: -1}, {CredentialCacheTTL: time.Millisecond}, {CredentialCacheTTL: 2 * time.Hour}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
}
