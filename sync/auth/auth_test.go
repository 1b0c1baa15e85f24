package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	tok, err := ParseTokens("ci=0123456789abcdef0, ana = secret-of-ana-123456 ")
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := tok.Check("0123456789abcdef0"); !ok || name != "ci" {
		t.Fatalf("ci: %q %v", name, ok)
	}
	if name, ok := tok.Check("secret-of-ana-123456"); !ok || name != "ana" {
		t.Fatalf("ana: %q %v", name, ok)
	}
	for _, bad := range []string{"", "0123456789abcdef", "0123456789abcdef00", "ci"} {
		if _, ok := tok.Check(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if single, err := ParseTokens("just-a-long-secret-value"); err != nil {
		t.Fatal(err)
	} else if name, ok := single.Check("just-a-long-secret-value"); !ok || name != "admin" {
		t.Fatalf("single: %q %v", name, ok)
	}
	for spec, want := range map[string]string{"": "no admin token", "short": "shorter than 16", "a b=0123456789abcdef0": "without spaces"} {
		if _, err := ParseTokens(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
}

func TestBearerAndKeys(t *testing.T) {
	r, _ := http.NewRequest("GET", "/", nil)
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "": "", "Bearer": ""} {
		r.Header.Set("Authorization", h)
		if got := Bearer(r); got != want {
			t.Errorf("%q: %q, want %q", h, got, want)
		}
	}
	a, b := NewSDKKey(ServerKey), NewSDKKey(ServerKey)
	if a == b || !strings.HasPrefix(a, "vx_server_") || len(a) != len("vx_server_")+32 {
		t.Fatalf("keys %q %q", a, b)
	}
	if KeyID(a) == KeyID(b) || len(KeyID(a)) != 64 || !Equal(a, a) || Equal(a, b) {
		t.Fatal("KeyID/Equal")
	}
}
