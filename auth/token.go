package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bearer tokens: a token is TokenPrefix and the base64url (no padding) of
// TokenBytes random bytes; the configuration keeps only "sha256:" and the
// hex SHA-256 of the whole token string, so a leaked configuration file
// grants nothing.
const (
	// TokenPrefix starts every token camvault issues, so that secret
	// scanners can recognise one.
	TokenPrefix = "cvt_"
	// TokenBytes is the random part of a token.
	TokenBytes = 32
	// tokenHashPrefix starts a token hash in the configuration.
	tokenHashPrefix = "sha256:"
	// maxTokens bounds the tokens of one user.
	maxTokens = 16
	// maxTokenLen bounds a presented token; longer ones are refused
	// without hashing.
	maxTokenLen = 256
)

// NewToken returns a new bearer token with TokenBytes read from rand
// (crypto/rand.Reader in production), and the hash to put in a user's
// tokens list.
func NewToken(rand io.Reader) (token, hash string, err error) {
	b := make([]byte, TokenBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", "", fmt.Errorf("read token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash returns the configuration form of token: "sha256:" and the
// lower-case hex SHA-256 of its bytes.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenHashPrefix + hex.EncodeToString(sum[:])
}

// parseTokenHash parses a token hash of the configuration.
func parseTokenHash(s string) ([sha256.Size]byte, error) {
	var out [sha256.Size]byte
	h, ok := strings.CutPrefix(s, tokenHashPrefix)
	if !ok || len(h) != 2*sha256.Size || strings.ToLower(h) != h {
		return out, fmt.Errorf("invalid token hash: want %q and 64 lower-case hex digits (see camvault token)", tokenHashPrefix)
	}
	if _, err := hex.Decode(out[:], []byte(h)); err != nil {
		return out, fmt.Errorf("invalid token hash: %w", err)
	}
	return out, nil
}

func compileTokens(fe *fieldErrors, at []string, tokens []string) [][sha256.Size]byte {
	if len(tokens) > maxTokens {
		fe.add(fmt.Errorf("at most %d tokens", maxTokens), at...)
		return nil
	}
	out := make([][sha256.Size]byte, 0, len(tokens))
	for i, s := range tokens {
		h, err := parseTokenHash(s)
		if err != nil {
			fe.add(err, append(append([]string(nil), at...), strconv.Itoa(i))...)
			continue
		}
		out = append(out, h)
	}
	return out
}

// CheckToken returns the user one of whose tokens is token. It hashes the
// token once and compares the hash with every configured token hash in
// constant time, without stopping at a match, so its time depends only on
// the number of configured tokens and never tells which user (if any) has
// it. An unknown, empty or oversized token returns ErrBadCredentials.
func (a *Authority) CheckToken(token string) (*User, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, ErrBadCredentials
	}
	sum := sha256.Sum256([]byte(token))
	var found *User
	for _, u := range a.c.tokenUsers {
		for i := range u.tokens {
			if subtle.ConstantTimeCompare(sum[:], u.tokens[i][:]) == 1 {
				found = u
			}
		}
	}
	if found == nil {
		return nil, ErrBadCredentials
	}
	return found, nil
}
