// Package auth holds the daemon's secrets: admin tokens, which authorize the admin API and name
// the actor of each change, and per-environment SDK keys, which the streaming endpoints (issue
// 5) accept. Secrets are compared in constant time, always over fixed-length SHA-256 digests so
// that not even a secret's length leaks through timing.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// Token is one admin token and the name changes made with it are recorded under.
type Token struct {
	Name   string
	digest [sha256.Size]byte
}

// Tokens is the set of admin tokens a daemon accepts.
type Tokens struct{ list []Token }

// ParseTokens reads the admin token configuration: a comma-separated list of NAME=SECRET, or
// a single SECRET (named "admin"). Secrets must be at least 16 bytes: a guessable admin token
// would be the whole system's weakest point.
func ParseTokens(spec string) (*Tokens, error) {
	t := &Tokens{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, secret, ok := strings.Cut(part, "=")
		if !ok {
			name, secret = "admin", part
		}
		name, secret = strings.TrimSpace(name), strings.TrimSpace(secret)
		if name == "" || strings.ContainsAny(name, " \t/") {
			return nil, fmt.Errorf("admin token name %q: want a word without spaces or slashes", name)
		}
		if len(secret) < 16 {
			return nil, fmt.Errorf("admin token %q: secret shorter than 16 bytes", name)
		}
		t.list = append(t.list, Token{Name: name, digest: sha256.Sum256([]byte(secret))})
	}
	if len(t.list) == 0 {
		return nil, fmt.Errorf("no admin token configured")
	}
	return t, nil
}

// Check returns the name of the token that secret is, comparing against every token in
// constant time (no early exit, so timing does not tell which one matched).
func (t *Tokens) Check(secret string) (name string, ok bool) {
	d := sha256.Sum256([]byte(secret))
	for _, tok := range t.list {
		if subtle.ConstantTimeCompare(d[:], tok.digest[:]) == 1 {
			name, ok = tok.Name, true
		}
	}
	return name, ok
}

// Bearer returns the token of an "Authorization: Bearer TOKEN" header, or "".
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// SDK key kinds: a server key reads the full snapshot of its environment; a client key reads
// only the browser-safe snapshot.
const (
	ServerKey = "server"
	ClientKey = "client"
)

// NewSDKKey returns a fresh random key of a kind: "vx_server_" or "vx_client_" and 32 hex
// digits (128 random bits). The prefix tells people which kind they hold; it is no secret.
func NewSDKKey(kind string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return "vx_" + kind + "_" + hex.EncodeToString(b[:])
}

// KeyID is the digest under which an SDK key is indexed, so the index never holds the key.
func KeyID(key string) string {
	d := sha256.Sum256([]byte(key))
	return hex.EncodeToString(d[:])
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}
