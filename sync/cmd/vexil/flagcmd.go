package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// subcommands dispatches "vexil NOUN VERB ..." to a table of verbs.
func subcommands(noun string, verbs []command, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		for _, c := range verbs {
			if c.name == args[0] {
				return c.run(args[1:], stdout, stderr)
			}
		}
		fmt.Fprintf(stderr, "vexil %s: unknown verb %q\n", noun, args[0])
	}
	fmt.Fprintf(stderr, "usage: vexil %s <verb> [flags]\n\nverbs:\n", noun)
	for _, c := range verbs {
		fmt.Fprintf(stderr, "  %-10s %s\n", c.name, c.summary)
	}
	return exitUsage
}

func runFlag(args []string, stdout, stderr io.Writer) int {
	return subcommands("flag", []command{
		{"list", "list flags (--tag, --type, --prefix, --archived)", flagList},
		{"get", "show one flag", flagGet},
		{"create", "create a flag: KEY for a boolean flag (off), or --file FILE with a flag document", flagCreate},
		{"update", "replace a flag with --file FILE (--if-match VERSION)", flagUpdate},
		{"enable", "turn a flag on", flagSimpleVerb("enable")},
		{"disable", "turn a flag off", flagSimpleVerb("disable")},
		{"toggle", "turn a flag on if off, off if on", flagSimpleVerb("toggle")},
		{"rollout", "KEY PERCENT: serve the variation to PERCENT % (+N / -N changes it by N)", flagRollout},
		{"pin", "KEY USER...: serve a variation (--variation, default true) to users", flagPin("pin")},
		{"block", "KEY USER...: serve false (or the off variation) to users", flagPin("block")},
		{"unpin", "KEY USER...: remove users from the flag's targets", flagPin("unpin")},
		{"schedule", "KEY: set the active window (--not-before, --not-after; none clears it)", flagSchedule},
		{"plan", "KEY show|set STAGES|advance|rollback|delete: staged rollout plan", flagPlan},
		{"archive", "archive a flag (out of snapshots, kept for the record)", flagSimpleVerb("archive")},
		{"unarchive", "bring an archived flag back", flagSimpleVerb("unarchive")},
		{"kill", "turn off every flag with --tag TAG or --prefix PREFIX in one change", flagKill},
		{"delete", "delete a flag", flagDelete},
	}, args, stdout, stderr)
}

func flagRow(tw *tabwriter.Writer, f *flagdoc.Flag) {
	state := "off"
	if f.Enabled {
		state = "on"
	}
	typ := f.Type
	if typ == "" {
		typ = "release"
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Key, state, typ, serveSummary(f), strings.Join(f.Tags, ","))
}

// serveSummary says in a few words what the fallthrough serves.
func serveSummary(f *flagdoc.Flag) string {
	if f.Fallthrough == nil {
		return "-"
	}
	value := func(i int) string {
		if i >= 0 && i < len(f.Variations) {
			return string(f.Variations[i])
		}
		return "#" + strconv.Itoa(i)
	}
	if f.Fallthrough.Variation != nil {
		return value(*f.Fallthrough.Variation)
	}
	if ro := f.Fallthrough.Rollout; ro != nil {
		parts := []string{}
		for _, wv := range ro.Variations {
			parts = append(parts, fmt.Sprintf("%s %g%%", value(wv.Variation), flagdoc.Percent(wv.Weight)))
		}
		return strings.Join(parts, " / ")
	}
	return "-"
}

func flagList(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag list", "flag list [--tag TAG] [--type TYPE] [--prefix P] [--archived]", true, stdout, stderr)
	tag := r.fs.String("tag", "", "only flags with this tag")
	typ := r.fs.String("type", "", "only flags of this type")
	prefix := r.fs.String("prefix", "", "only flags whose key starts so")
	archived := r.fs.Bool("archived", false, "list archived flags instead")
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	flags, version, err := r.client().Flags(ctx, *r.env, client.FlagFilter{Tag: *tag, Type: *typ, Prefix: *prefix, Archived: *archived})
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"version": version, "flags": flags}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "KEY\tSTATE\tTYPE\tSERVES\tTAGS")
		for i := range flags {
			flagRow(tw, &flags[i])
		}
	})
}

func printFlag(r *remote, fs client.FlagState) int {
	return r.output(fs, func(tw *tabwriter.Writer) {
		if fs.Flag == nil {
			fmt.Fprintf(tw, "version\t%d\n", fs.Version)
			return
		}
		f := fs.Flag
		state := "off"
		if f.Enabled {
			state = "on"
		}
		if fs.Archived {
			state += " (archived)"
		}
		fmt.Fprintf(tw, "key\t%s\nstate\t%s\nserves\t%s\n", f.Key, state, serveSummary(f))
		vars := []string{}
		for _, v := range f.Variations {
			vars = append(vars, string(v))
		}
		fmt.Fprintf(tw, "variations\t%s\n", strings.Join(vars, ", "))
		if f.Description != "" {
			fmt.Fprintf(tw, "description\t%s\n", f.Description)
		}
		if len(f.Tags) > 0 {
			fmt.Fprintf(tw, "tags\t%s\n", strings.Join(f.Tags, ", "))
		}
		for _, t := range f.Targets {
			fmt.Fprintf(tw, "targets %d\t%s\n", t.Variation, strings.Join(t.Values, ", "))
		}
		fmt.Fprintf(tw, "rules\t%d\n", len(f.Rules))
		if f.Schedule != nil {
			fmt.Fprintf(tw, "schedule\t%s .. %s\n", f.Schedule.NotBefore, f.Schedule.NotAfter)
		}
		if p := fs.Plan; p != nil {
			fmt.Fprintf(tw, "plan\tstages %v %%, at stage %d of %d\n", p.Stages, p.Stage+1, len(p.Stages))
		}
		fmt.Fprintf(tw, "version\t%d\n", fs.Version)
		if fs.ChangeID != "" {
			fmt.Fprintf(tw, "change\t%s\n", fs.ChangeID)
		}
	})
}

func flagGet(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag get", "flag get KEY", true, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().Flag(ctx, *r.env, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagCreate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag create", "flag create (KEY [--description D] [--tags a,b] [--type T] | --file FILE)", true, stdout, stderr)
	file := r.fs.String("file", "", "flag document `FILE` (snapshot format; - for stdin)")
	desc := r.fs.String("description", "", "description of a new boolean flag")
	tags := r.fs.String("tags", "", "comma-separated tags of a new boolean flag")
	typ := r.fs.String("type", "", "type of a new boolean flag (release, experiment, ops, permission, kill-switch)")
	if !r.parse(args, 0, 1) {
		return exitUsage
	}
	var f *flagdoc.Flag
	switch {
	case *file != "" && len(r.args) == 0:
		f = &flagdoc.Flag{}
		if err := readDoc(*file, f); err != nil {
			fmt.Fprintf(stderr, "vexil flag create: %v\n", err)
			return exitInvalid
		}
	case *file == "" && len(r.args) == 1:
		// A new boolean flag is off, and serves true once enabled: creating is never a release.
		off, on := 0, 1
		f = &flagdoc.Flag{Key: r.args[0], Type: *typ, Description: *desc,
			Variations:   []json.RawMessage{json.RawMessage("false"), json.RawMessage("true")},
			OffVariation: &off, Fallthrough: &flagdoc.Serve{Variation: &on}}
		if *tags != "" {
			f.Tags = strings.Split(*tags, ",")
		}
	default:
		return r.usageError("give KEY or --file FILE")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().CreateFlag(ctx, *r.env, f)
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagUpdate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag update", "flag update --file FILE [--if-match VERSION]", true, stdout, stderr)
	file := r.fs.String("file", "", "flag document `FILE` (- for stdin)")
	match := r.ifMatchFlag()
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	if *file == "" {
		return r.usageError("--file is required")
	}
	var f flagdoc.Flag
	if err := readDoc(*file, &f); err != nil {
		fmt.Fprintf(stderr, "vexil flag update: %v\n", err)
		return exitInvalid
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().UpdateFlag(ctx, *r.env, &f, match())
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagSimpleVerb(verb string) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		r := newRemote("flag "+verb, "flag "+verb+" KEY", true, stdout, stderr)
		if !r.parse(args, 1, 1) {
			return exitUsage
		}
		ctx, cancel := r.ctx()
		defer cancel()
		fs, err := r.client().FlagVerb(ctx, *r.env, r.args[0], verb, nil)
		if err != nil {
			return r.fail(err)
		}
		return printFlag(r, fs)
	}
}

func optInt(v int) *int {
	if v < 0 {
		return nil
	}
	return &v
}

func flagRollout(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag rollout", "flag rollout KEY PERCENT|+N|-N [--variation N] [--baseline N] [--rule ID]", true, stdout, stderr)
	variation := r.fs.Int("variation", -1, "variation `INDEX` served to PERCENT % (default: true)")
	baseline := r.fs.Int("baseline", -1, "variation `INDEX` served to the rest (default: false, or the off variation)")
	rule := r.fs.String("rule", "", "roll out in the rule with this `ID` instead of the fallthrough")
	if !r.parse(args, 2, 2) {
		return exitUsage
	}
	arg := strings.TrimSuffix(r.args[1], "%")
	n, err := strconv.ParseFloat(arg, 64)
	if err != nil {
		return r.usageError("PERCENT: want a number such as 25, +10 or -5, got %q", r.args[1])
	}
	body := &client.VerbBody{Variation: optInt(*variation), Baseline: optInt(*baseline), Rule: *rule}
	if strings.HasPrefix(arg, "+") || strings.HasPrefix(arg, "-") {
		body.By = &n
	} else {
		body.Percent = &n
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().FlagVerb(ctx, *r.env, r.args[0], "rollout", body)
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagPin(verb string) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		r := newRemote("flag "+verb, "flag "+verb+" KEY USER...", true, stdout, stderr)
		var variation *int
		if verb == "pin" {
			variation = r.fs.Int("variation", -1, "variation `INDEX` to serve (default: true)")
		}
		if !r.parse(args, 2, -1) {
			return exitUsage
		}
		body := &client.VerbBody{Users: r.args[1:]}
		if variation != nil {
			body.Variation = optInt(*variation)
		}
		ctx, cancel := r.ctx()
		defer cancel()
		fs, err := r.client().FlagVerb(ctx, *r.env, r.args[0], verb, body)
		if err != nil {
			return r.fail(err)
		}
		return printFlag(r, fs)
	}
}

func flagSchedule(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag schedule", "flag schedule KEY [--not-before TIME] [--not-after TIME]", true, stdout, stderr)
	nb := r.fs.String("not-before", "", "RFC 3339 `TIME` the flag becomes active")
	na := r.fs.String("not-after", "", "RFC 3339 `TIME` the flag stops being active")
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	body := &client.VerbBody{}
	if *nb != "" {
		body.NotBefore = nb
	}
	if *na != "" {
		body.NotAfter = na
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().FlagVerb(ctx, *r.env, r.args[0], "schedule", body)
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagPlan(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag plan", "flag plan KEY show | set 1,5,25,100 [--variation N] [--baseline N] [--rule ID] | advance | rollback | delete", true, stdout, stderr)
	variation := r.fs.Int("variation", -1, "variation `INDEX` the stages serve (default: true)")
	baseline := r.fs.Int("baseline", -1, "variation `INDEX` for the rest (default: false)")
	rule := r.fs.String("rule", "", "drive the rule with this `ID` instead of the fallthrough")
	if !r.parse(args, 2, 3) {
		return exitUsage
	}
	key, step := r.args[0], r.args[1]
	if (step == "set") != (len(r.args) == 3) {
		return r.usageError("set takes the stages (1,5,25,100); the other steps take nothing")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	c := r.client()
	var fs client.FlagState
	var err error
	switch step {
	case "show":
		fs, err = c.Flag(ctx, *r.env, key)
	case "set":
		var stages []float64
		for _, s := range strings.Split(r.args[2], ",") {
			n, perr := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
			if perr != nil {
				return r.usageError("STAGES: want percentages such as 1,5,25,100, got %q", s)
			}
			stages = append(stages, n)
		}
		fs, err = c.SetPlan(ctx, *r.env, key, client.PlanBody{Stages: stages, Rule: *rule, Variation: optInt(*variation), Baseline: optInt(*baseline)})
	case "advance", "rollback":
		fs, err = c.StepPlan(ctx, *r.env, key, step)
	case "delete":
		fs, err = c.DeletePlan(ctx, *r.env, key)
	default:
		return r.usageError("unknown plan step %q (show, set, advance, rollback, delete)", step)
	}
	if err != nil {
		return r.fail(err)
	}
	return printFlag(r, fs)
}

func flagKill(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag kill", "flag kill (--tag TAG | --prefix PREFIX)", true, stdout, stderr)
	tag := r.fs.String("tag", "", "turn off every flag with this tag")
	prefix := r.fs.String("prefix", "", "turn off every flag whose key starts so")
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	if (*tag == "") == (*prefix == "") {
		return r.usageError("give exactly one of --tag and --prefix")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	res, err := r.client().Kill(ctx, *r.env, *tag, *prefix)
	if err != nil {
		return r.fail(err)
	}
	return r.output(res, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "turned off %d flags at version %d (change %s):\n", len(res.Flags), res.Version, res.ChangeID)
		for _, k := range res.Flags {
			fmt.Fprintf(tw, "  %s\n", k)
		}
	})
}

func flagDelete(args []string, stdout, stderr io.Writer) int {
	r := newRemote("flag delete", "flag delete KEY", true, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	fs, err := r.client().DeleteFlag(ctx, *r.env, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return r.output(fs, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "deleted %s at version %d\n", r.args[0], fs.Version)
	})
}
