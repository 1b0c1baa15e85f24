package peers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	unleashsdk "github.com/Unleash/unleash-client-go/v4"
	ucontext "github.com/Unleash/unleash-client-go/v4/context"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// Unleash's Go client, evaluating locally as it does in production: it fetches the toggles
// (Unleash's client API format) over real HTTP from a local server, then answers IsEnabled and
// GetVariant from memory with a context built once per request. Metrics reporting is
// disabled, so the timings are evaluation alone. Unleash contexts hold strings only: numbers,
// booleans and lists are given as text ("25", "true", "eu,admins"), and the clauses compare
// them with Unleash's typed operators (NUM_GTE, NUM_LT, SEMVER_GT for ≥ 4.2.0, STR_CONTAINS
// for "groups contains adm"). Targets are the userWithId strategy, the segment an Unleash
// segment, the rollout a flexibleRollout, the split feature variants. The prerequisite chain is
// not expressed: Unleash's dependencies are one level deep (the client counts a parent that
// has dependencies of its own as never enabled).

func unleash() Peer {
	return Peer{Name: "unleash", Prepare: prepareUnleash, All: unleashAll, Load: unleashLoadCase}
}

func prepareUnleash(sc *scenarios.Scenario) (*Case, error) {
	type obj = map[string]any
	defaultStrategy := func(constraints ...obj) obj {
		return obj{"name": "default", "constraints": constraints}
	}
	in := func(name string, values ...string) obj {
		return obj{"contextName": name, "operator": "IN", "values": values}
	}
	op := func(name, operator, value string) obj {
		return obj{"contextName": name, "operator": operator, "value": value, "values": []string{value}}
	}
	feature := func(name string, strategies ...obj) obj {
		return obj{"name": name, "type": "release", "enabled": true, "strategies": strategies}
	}
	var features, segments []any
	variantFlag := false
	switch sc.Name {
	case "static":
		features = append(features, feature(sc.Flag, defaultStrategy()))
	case "target-hit":
		t, err := targets(sc)
		if err != nil {
			return nil, err
		}
		features = append(features, feature(sc.Flag, obj{"name": "userWithId", "parameters": obj{"userIds": strings.Join(t[1], ",")}}))
	case "rule-match":
		features = append(features, feature(sc.Flag, defaultStrategy(in("plan", "pro", "enterprise"))))
	case "rule-10-clauses":
		features = append(features, feature(sc.Flag, defaultStrategy(
			in("plan", "pro", "enterprise"),
			in("country", "DE", "FR", "NL", "AT", "CH", "BE", "LU", "IT", "ES"),
			op("email", "STR_ENDS_WITH", "@example.com"),
			op("email", "STR_STARTS_WITH", "jane"),
			in("platform", "web"),
			op("seats", "NUM_GTE", "10"),
			op("seats", "NUM_LT", "1000"),
			op("appVersion", "SEMVER_GT", "4.2.0"),
			in("beta", "true"),
			op("groups", "STR_CONTAINS", "adm"),
		)))
	case "rollout":
		features = append(features, feature(sc.Flag, obj{"name": "flexibleRollout",
			"parameters": obj{"rollout": "25", "stickiness": "userId", "groupId": sc.Flag}}))
	case "split-3way":
		variantFlag = true
		f := feature(sc.Flag, defaultStrategy())
		f["variants"] = []any{
			obj{"name": "a", "weight": 500, "weightType": "variable", "stickiness": "userId"},
			obj{"name": "b", "weight": 300, "weightType": "variable", "stickiness": "userId"},
			obj{"name": "c", "weight": 200, "weightType": "variable", "stickiness": "userId"},
		}
		features = append(features, f)
	case "segment-10k":
		members, err := segmentMembers(sc)
		if err != nil {
			return nil, err
		}
		segments = append(segments, obj{"id": 1, "constraints": []any{in("userId", members...)}})
		s := defaultStrategy()
		s["segments"] = []int{1}
		features = append(features, feature(sc.Flag, s))
	default:
		return nil, ErrNotExpressible
	}
	payload, err := json.Marshal(obj{"version": 2, "features": features, "segments": segments})
	if err != nil {
		return nil, err
	}
	client, closeAll, err := startUnleash(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", sc.Name, err)
	}
	build := func(key string) ucontext.Context {
		return ucontext.Context{UserId: key, Properties: unleashProperties(sc.Attrs)}
	}
	opt := unleashsdk.WithContext(build(sc.Key))
	vopt := unleashsdk.WithVariantContext(build(sc.Key))
	c := &Case{Close: closeAll}
	if variantFlag {
		c.Eval = func() { _ = client.GetVariant(sc.Flag, vopt) }
		c.Answer = func(key string) (string, error) {
			v := client.GetVariant(sc.Flag, unleashsdk.WithVariantContext(build(key)))
			if !v.Enabled {
				return "", fmt.Errorf("no variant served")
			}
			return jsonText(v.Name)
		}
	} else {
		c.Eval = func() { _ = client.IsEnabled(sc.Flag, opt) }
		c.Answer = func(key string) (string, error) {
			return jsonText(client.IsEnabled(sc.Flag, unleashsdk.WithContext(build(key))))
		}
	}
	return c, nil
}

// unleashProperties gives the scenario's attributes as Unleash context properties, which are
// strings: numbers and booleans as text, lists joined with commas.
func unleashProperties(attrs []scenarios.Attr) map[string]string {
	props := map[string]string{}
	for _, a := range attrs {
		switch v := a.Value.(type) {
		case string:
			props[a.Name] = v
		case float64:
			props[a.Name] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			props[a.Name] = strconv.FormatBool(v)
		case []string:
			props[a.Name] = strings.Join(v, ",")
		}
	}
	return props
}

// quietListener passes on the client's first error and drops every other event (the client
// blocks on unread channels without a listener).
type quietListener struct{ errs chan error }

func (l *quietListener) OnError(err error) {
	select {
	case l.errs <- err:
	default:
	}
}
func (l *quietListener) OnWarning(error)                    {}
func (l *quietListener) OnReady()                           {}
func (l *quietListener) OnUpdate()                          {}
func (l *quietListener) OnCount(string, bool)               {}
func (l *quietListener) OnSent(unleashsdk.MetricsData)      {}
func (l *quietListener) OnRegistered(unleashsdk.ClientData) {}

// startUnleash serves payload (the client API's features response) over real HTTP from a
// local server and starts a client on it, metrics off; it returns once the client holds the
// toggles. closeAll stops both.
func startUnleash(payload []byte) (client *unleashsdk.Client, closeAll func(), err error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/client/features") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(payload)
			return
		}
		w.WriteHeader(http.StatusOK) // register and metrics
	}))
	listener := &quietListener{errs: make(chan error, 1)}
	client, err = unleashsdk.NewClient(
		unleashsdk.WithUrl(srv.URL+"/api/"),
		unleashsdk.WithAppName("vexil-bench"),
		unleashsdk.WithDisableMetrics(true),
		unleashsdk.WithRefreshInterval(time.Hour),
		unleashsdk.WithStorage(&unleashsdk.DefaultStorage{}),
		unleashsdk.WithListener(listener),
	)
	if err != nil {
		srv.Close()
		return nil, nil, err
	}
	var once sync.Once
	closeAll = func() { once.Do(func() { client.Close(); srv.Close() }) }
	ready := make(chan struct{})
	go func() { client.WaitForReady(); close(ready) }()
	select {
	case <-ready:
	case err := <-listener.errs:
		closeAll()
		return nil, nil, fmt.Errorf("the Unleash client: %v", err)
	case <-time.After(10 * time.Second):
		closeAll()
		return nil, nil, fmt.Errorf("the Unleash client did not fetch its toggles in 10 s")
	}
	return client, closeAll, nil
}
