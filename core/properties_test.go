package core_test

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/vexil-flags/vexil/core"
)

// Property tests of bucketing over a large, fixed population: shares land where the weights
// say, raising a rollout only adds users, salts decorrelate flags, and assignments survive
// reloads. The population is deterministic, so these tests either always pass or always fail.

const propertyUsers = 100_000

var (
	usersOnce sync.Once
	users     []string
)

// propertyPopulation returns 100,000 distinct targeting keys in a realistic mix: sequential
// "user-<n>" keys, random UUIDs and e-mail addresses, from a fixed seed.
func propertyPopulation() []string {
	usersOnce.Do(func() {
		r := rand.New(rand.NewSource(20261123))
		first := []string{"jane", "john", "maria", "wei", "aisha", "lukas", "sofia", "ivan", "yuki", "omar"}
		domains := []string{"example.com", "mail.test", "corp.example", "gmail.test", "uni.example.edu"}
		seen := make(map[string]bool, propertyUsers)
		for n := 0; len(users) < propertyUsers; n++ {
			var key string
			switch r.Intn(3) {
			case 0:
				key = fmt.Sprintf("user-%d", n)
			case 1:
				var b [16]byte
				r.Read(b[:])
				b[6] = b[6]&0x0f | 0x40 // version 4
				b[8] = b[8]&0x3f | 0x80 // variant 10
				key = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
			default:
				key = fmt.Sprintf("%s.%d@%s", first[r.Intn(len(first))], r.Intn(1_000_000), domains[r.Intn(len(domains))])
			}
			if !seen[key] {
				seen[key] = true
				users = append(users, key)
			}
		}
	})
	return users
}

// rolloutFlag renders a flag whose fallthrough is a rollout. salt "" leaves the flag's default
// (its key).
func rolloutFlag(key, salt string, weights ...int) string {
	var vars, ws []string
	for i, w := range weights {
		vars = append(vars, fmt.Sprintf("%q", fmt.Sprintf("v%d", i)))
		ws = append(ws, fmt.Sprintf(`{"variation": %d, "weight": %d}`, i, w))
	}
	saltField := ""
	if salt != "" {
		saltField = fmt.Sprintf(`"salt": %q, `, salt)
	}
	return fmt.Sprintf(`{"key": %q, "enabled": true, "variations": [%s], "offVariation": 0,
		"fallthrough": {"rollout": {%s"variations": [%s]}}}`,
		key, strings.Join(vars, ", "), saltField, strings.Join(ws, ", "))
}

// percentFlag is a boolean flag serving true (variation 1) to pct thousandths of a percent:
// variation 1 comes first, so its range is [0, pct).
func percentFlag(key, salt string, pct int) string {
	saltField := ""
	if salt != "" {
		saltField = fmt.Sprintf(`"salt": %q, `, salt)
	}
	return fmt.Sprintf(`{"key": %q, "enabled": true, "variations": [false, true], "offVariation": 0,
		"fallthrough": {"rollout": {%s"variations": [{"variation": 1, "weight": %d}, {"variation": 0, "weight": %d}]}}}`,
		key, saltField, pct, 100000-pct)
}

func snapshotJSON(version int, flags ...string) []byte {
	return []byte(fmt.Sprintf(`{"schemaVersion": 1, "environment": "test", "version": %d, "flags": [%s]}`,
		version, strings.Join(flags, ",\n")))
}

func mustLoad(t testing.TB, data []byte) *core.Evaluator {
	t.Helper()
	ev, err := core.Load(data)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, data)
	}
	for _, p := range ev.Snapshot().Problems {
		t.Fatalf("load: problem %s\n%s", p, data)
	}
	return ev
}

// assign evaluates flag key for every user and returns the served variations. Every result
// must be a SPLIT.
func assign(t *testing.T, ev *core.Evaluator, key string) []int32 {
	t.Helper()
	i := ev.FlagIndex(key)
	if i < 0 {
		t.Fatalf("flag %q not found", key)
	}
	ctx := ev.NewContext()
	out := make([]int32, len(propertyPopulation()))
	bad := 0
	for u, k := range propertyPopulation() {
		ctx.SetTargetingKey(k)
		r := ev.Evaluate(i, ctx)
		if r.Reason() != core.ReasonSplit && bad < 5 {
			bad++
			t.Errorf("flag %q, user %q: reason %v, want SPLIT", key, k, r.Reason())
		}
		out[u] = r.Variation
	}
	return out
}

// share returns the percentage of entries equal to v.
func share(vs []int32, v int32) float64 {
	n := 0
	for _, x := range vs {
		if x == v {
			n++
		}
	}
	return 100 * float64(n) / float64(len(vs))
}

func checkShare(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if got < want-tol || got > want+tol {
		t.Errorf("%s: measured %.3f%%, want %.1f%% ± %.1f points", what, got, want, tol)
	} else {
		t.Logf("%s: measured %.3f%% (want %.1f%% ± %.1f)", what, got, want, tol)
	}
}

func TestPropertyPopulation(t *testing.T) {
	us := propertyPopulation()
	if len(us) != propertyUsers {
		t.Fatalf("population has %d users, want %d", len(us), propertyUsers)
	}
	kinds := map[string]int{}
	for _, u := range us {
		switch {
		case strings.HasPrefix(u, "user-"):
			kinds["user-<n>"]++
		case strings.Contains(u, "@"):
			kinds["email"]++
		default:
			kinds["uuid"]++
		}
	}
	for k, n := range kinds {
		if n < propertyUsers/4 {
			t.Errorf("only %d %s keys", n, k)
		}
	}
}

func TestPropertyRollout25(t *testing.T) {
	ev := mustLoad(t, snapshotJSON(1, percentFlag("rollout-25", "", 25000)))
	got := assign(t, ev, "rollout-25")
	checkShare(t, "25% rollout, variation 1", share(got, 1), 25, 0.5)
	checkShare(t, "25% rollout, variation 0", share(got, 0), 75, 0.5)

	// The engine agrees with the published bucketing formula, user by user: variation 1 owns
	// buckets [0, 25000). The salt defaults to the flag key.
	mismatches := 0
	for u, k := range propertyPopulation() {
		want := int32(0)
		if core.Bucket("rollout-25", k) < 25000 {
			want = 1
		}
		if got[u] != want {
			if mismatches++; mismatches <= 5 {
				t.Errorf("user %q: variation %d, but bucket %d says %d", k, got[u], core.Bucket("rollout-25", k), want)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d users disagree with core.Bucket", mismatches)
	}
}

func TestPropertyRolloutRaiseKeepsUsers(t *testing.T) {
	// Same flag key, same explicit salt, weight raised from 25% to 50%, as the next version.
	before := mustLoad(t, snapshotJSON(1, percentFlag("checkout", "checkout-salt", 25000)))
	after := mustLoad(t, snapshotJSON(2, percentFlag("checkout", "checkout-salt", 50000)))
	a, b := assign(t, before, "checkout"), assign(t, after, "checkout")
	checkShare(t, "before (25%)", share(a, 1), 25, 0.5)
	checkShare(t, "after (50%)", share(b, 1), 50, 0.5)
	left, joined := 0, 0
	for u := range a {
		switch {
		case a[u] == 1 && b[u] != 1:
			if left++; left <= 5 {
				t.Errorf("user %q was in at 25%% and is out at 50%%", propertyPopulation()[u])
			}
		case a[u] != 1 && b[u] == 1:
			joined++
		}
	}
	if left > 0 {
		t.Errorf("%d users (%.3f%%) left the rollout when it was raised; want 0", left, 100*float64(left)/float64(len(a)))
	}
	checkShare(t, "users who joined when raised 25% → 50%", 100*float64(joined)/float64(len(a)), 25, 0.5)
}

func TestPropertyIndependentSalts(t *testing.T) {
	// Two 50% flags with no explicit salt: the salts are their (different) keys.
	ev := mustLoad(t, snapshotJSON(1, percentFlag("flag-a", "", 50000), percentFlag("flag-b", "", 50000)))
	a, b := assign(t, ev, "flag-a"), assign(t, ev, "flag-b")
	checkShare(t, "flag-a", share(a, 1), 50, 0.5)
	checkShare(t, "flag-b", share(b, 1), 50, 0.5)
	both := 0
	for u := range a {
		if a[u] == 1 && b[u] == 1 {
			both++
		}
	}
	checkShare(t, "users in both 50% flags", 100*float64(both)/float64(len(a)), 25, 1)
}

func TestPropertySplit3Way(t *testing.T) {
	ev := mustLoad(t, snapshotJSON(1, rolloutFlag("three-way", "", 50000, 30000, 20000)))
	got := assign(t, ev, "three-way")
	checkShare(t, "50/30/20 split, variation 0", share(got, 0), 50, 0.5)
	checkShare(t, "50/30/20 split, variation 1", share(got, 1), 30, 0.5)
	checkShare(t, "50/30/20 split, variation 2", share(got, 2), 20, 0.5)
	if s := share(got, 0) + share(got, 1) + share(got, 2); s != 100 {
		t.Errorf("variations 0–2 cover %.3f%% of users, want 100%%", s)
	}
}

func TestPropertyStableAcrossReloads(t *testing.T) {
	flags := []string{
		percentFlag("rollout-25", "", 25000),
		rolloutFlag("three-way", "", 50000, 30000, 20000),
		percentFlag("salted", "fixed-salt", 50000),
	}
	first := mustLoad(t, snapshotJSON(1, flags...))
	// The same flags at a later version, in another order, among unrelated flags and with
	// different whitespace: nothing about the document but the rollouts matters.
	second := mustLoad(t, []byte(strings.ReplaceAll(string(snapshotJSON(9,
		percentFlag("unrelated-1", "", 10000),
		flags[2], flags[1],
		rolloutFlag("unrelated-2", "", 70000, 30000),
		flags[0],
	)), "\n", "\n\n  ")))
	// And the same bytes loaded again.
	third := mustLoad(t, snapshotJSON(1, flags...))
	for _, key := range []string{"rollout-25", "three-way", "salted"} {
		a, b, c := assign(t, first, key), assign(t, second, key), assign(t, third, key)
		changed := 0
		for u := range a {
			if a[u] != b[u] || a[u] != c[u] {
				if changed++; changed <= 5 {
					t.Errorf("flag %q, user %q: variation %d, after reload %d and %d", key, propertyPopulation()[u], a[u], b[u], c[u])
				}
			}
		}
		if changed > 0 {
			t.Errorf("flag %q: %d users changed variation across reloads; want 0", key, changed)
		}
	}
}

func TestPropertySaltReshuffles(t *testing.T) {
	old := mustLoad(t, snapshotJSON(1, percentFlag("checkout", "salt-2026-10", 50000)))
	resalted := mustLoad(t, snapshotJSON(2, percentFlag("checkout", "salt-2026-11", 50000)))
	a, b := assign(t, old, "checkout"), assign(t, resalted, "checkout")
	checkShare(t, "new salt, variation 1", share(b, 1), 50, 0.5)
	same, bothIn := 0, 0
	for u := range a {
		if a[u] == b[u] {
			same++
		}
		if a[u] == 1 && b[u] == 1 {
			bothIn++
		}
	}
	// Independent 50/50 assignments agree for half the users (both in or both out).
	checkShare(t, "users with the same assignment under the new salt", 100*float64(same)/float64(len(a)), 50, 1)
	checkShare(t, "users in under both salts", 100*float64(bothIn)/float64(len(a)), 25, 1)

	// Changing only the flag key (the default salt) reshuffles too.
	renamed := mustLoad(t, snapshotJSON(3, percentFlag("checkout-v2", "", 50000)))
	keyed := mustLoad(t, snapshotJSON(3, percentFlag("checkout", "", 50000)))
	c, d := assign(t, renamed, "checkout-v2"), assign(t, keyed, "checkout")
	same = 0
	for u := range c {
		if c[u] == d[u] {
			same++
		}
	}
	checkShare(t, "users with the same assignment after renaming the flag", 100*float64(same)/float64(len(c)), 50, 1)
}

// TestPropertyBucketByNumber checks that an integer bucket-by attribute hashes as its decimal
// string, so hosts that hold an id as a number and hosts that hold it as a string agree.
func TestPropertyBucketByNumber(t *testing.T) {
	ev := mustLoad(t, snapshotJSON(1, `{"key": "by-account", "enabled": true, "variations": [false, true],
		"fallthrough": {"rollout": {"bucketBy": "accountId", "variations": [{"variation": 1, "weight": 40000}, {"variation": 0, "weight": 60000}]}}}`))
	i := ev.FlagIndex("by-account")
	num, str := ev.NewContext(), ev.NewContext()
	in := 0
	const n = 20000
	for id := range n {
		num.SetNumber("accountId", float64(id*7919))
		str.SetString("accountId", fmt.Sprint(id*7919))
		a, b := ev.Evaluate(i, num), ev.Evaluate(i, str)
		if a != b {
			t.Fatalf("accountId %d: as a number %+v, as a string %+v", id*7919, a, b)
		}
		if a.Variation == 1 {
			in++
		}
	}
	checkShare(t, "40% rollout by numeric accountId", 100*float64(in)/n, 40, 1.5)
}
