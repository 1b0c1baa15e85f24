package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vexil-flags/vexil/sync/client"
)

func runAudit(args []string, stdout, stderr io.Writer) int {
	r := newRemote("audit", "audit [--flag KEY] [--segment KEY] [--actor NAME] [--since TIME] [--until TIME] [--limit N] [--oldest]", true, stdout, stderr)
	flagKey := r.fs.String("flag", "", "only changes of this flag")
	segment := r.fs.String("segment", "", "only changes of this segment")
	actorName := r.fs.String("actor", "", "only changes by this actor (token name, or token/person)")
	since := r.fs.String("since", "", "only changes at or after this RFC 3339 `TIME`, or a duration ago (24h)")
	until := r.fs.String("until", "", "only changes before this RFC 3339 `TIME`, or a duration ago")
	limit := r.fs.Int("limit", 20, "at most `N` entries (1–1000)")
	oldest := r.fs.Bool("oldest", false, "oldest first (default newest first)")
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	q := client.AuditQuery{Flag: *flagKey, Segment: *segment, Actor: *actorName, Limit: *limit, Oldest: *oldest}
	for _, p := range []struct {
		name, s string
		t       *time.Time
	}{{"since", *since, &q.Since}, {"until", *until, &q.Until}} {
		if p.s == "" {
			continue
		}
		if d, err := time.ParseDuration(p.s); err == nil {
			*p.t = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, p.s); err == nil {
			*p.t = t
		} else {
			return r.usageError("--%s: want an RFC 3339 time or a duration such as 24h, got %q", p.name, p.s)
		}
	}
	ctx, cancel := r.ctx()
	defer cancel()
	entries, err := r.client().Audit(ctx, *r.env, q)
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"entries": entries}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "TIME\tVERSION\tACTOR\tACTION\tDOCUMENTS")
		for _, e := range entries {
			var docs []string
			for coll, m := range e.After {
				for key := range m {
					docs = append(docs, coll+"/"+key)
				}
			}
			sort.Strings(docs)
			if len(docs) > 4 {
				docs = append(docs[:4], fmt.Sprintf("… %d more", len(docs)-4))
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", e.Time, e.Version, e.Actor, e.Action, strings.Join(docs, " "))
		}
	})
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	r := newRemote("explain", "explain [--flag KEY] --context JSON|@FILE [--now TIME] [--random N]", true, stdout, stderr)
	key := r.fs.String("flag", "", "flag `KEY` to explain (default: every flag)")
	ctxArg := r.fs.String("context", "{}", "context as a JSON object, @FILE, or - for stdin")
	now := r.fs.String("now", "", "evaluation time, RFC 3339 or epoch ms (default: the daemon's clock)")
	random := r.fs.String("random", "", "32-bit random number for percentage-of-time gates (default: drawn)")
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	raw, err := readJSONArg(*ctxArg)
	if err != nil {
		fmt.Fprintf(stderr, "vexil explain: --context: %v\n", err)
		return exitFailure
	}
	body := client.ExplainBody{Flag: *key, Context: raw}
	if *now != "" {
		ms, err := parseNow(*now)
		if err != nil {
			return r.usageError("--now: %v", err)
		}
		body.Now = []byte(fmt.Sprint(ms))
	}
	if *random != "" {
		var n uint32
		if _, err := fmt.Sscan(*random, &n); err != nil {
			return r.usageError("--random: want an integer from 0 to 4294967295, got %q", *random)
		}
		body.Random = &n
	}
	ctx, cancel := r.ctx()
	defer cancel()
	out, err := r.client().Explain(ctx, *r.env, body)
	if err != nil {
		return r.fail(err)
	}
	if *r.jsonOut {
		_, _ = stdout.Write(out)
		return exitOK
	}
	return printExplanation(stdout, out)
}

type explanation struct {
	Flag      string          `json:"flag"`
	Value     json.RawMessage `json:"value"`
	Variation int             `json:"variation"`
	Reason    string          `json:"reason"`
	RuleID    string          `json:"ruleId"`
	ErrorCode string          `json:"errorCode"`
	Steps     []struct {
		Step    string `json:"step"`
		Path    string `json:"path"`
		Ref     string `json:"ref"`
		Matched bool   `json:"matched"`
		Detail  string `json:"detail"`
	} `json:"steps"`
}

// printExplanation renders explanations for people: the result, then each step indented.
func printExplanation(w io.Writer, data []byte) int {
	var list []explanation
	var all struct {
		Results []explanation `json:"results"`
	}
	var one explanation
	if json.Unmarshal(data, &all) == nil && all.Results != nil {
		list = all.Results
	} else if err := json.Unmarshal(data, &one); err == nil {
		list = []explanation{one}
	} else {
		fmt.Fprintf(w, "%s\n", data)
		return exitOK
	}
	for i, x := range list {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s = %s (variation %d, %s", x.Flag, x.Value, x.Variation, x.Reason)
		if x.RuleID != "" {
			fmt.Fprintf(w, ", rule %s", x.RuleID)
		}
		if x.ErrorCode != "" {
			fmt.Fprintf(w, ", %s", x.ErrorCode)
		}
		fmt.Fprintln(w, ")")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range x.Steps {
			mark := "no"
			if s.Matched {
				mark = "yes"
			}
			where := s.Path
			if s.Ref != "" {
				where = strings.TrimSpace(where + " " + s.Ref)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, s.Step, where, s.Detail)
		}
		_ = tw.Flush()
	}
	return exitOK
}
