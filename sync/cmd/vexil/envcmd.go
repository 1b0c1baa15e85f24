package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

func runEnv(args []string, stdout, stderr io.Writer) int {
	return subcommands("env", []command{
		{"list", "list environments", envList},
		{"get", "ENV: show an environment", envGet},
		{"create", "ENV [--description D]: create an environment (prints its SDK keys)", envCreate},
		{"delete", "ENV --yes: delete an environment with everything in it", envDelete},
		{"keys", "ENV: show the environment's SDK keys", envKeys},
		{"rotate", "ENV server|client: replace an SDK key (the old one stops working)", envRotate},
		{"import", "ENV FILE: create or replace the flags and segments of a snapshot, in one change", envImport},
		{"snapshot", "ENV: print the environment's snapshot", envSnapshot},
	}, args, stdout, stderr)
}

func envList(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env list", "env list", false, stdout, stderr)
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	envs, err := r.client().Environments(ctx)
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"environments": envs}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "KEY\tVERSION\tFLAGS\tSEGMENTS\tARCHIVED\tDESCRIPTION")
		for _, e := range envs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", e.Key, e.Version, e.Flags, e.Segments, e.Archived, e.Description)
		}
	})
}

func envGet(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env get", "env get ENV", false, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	e, err := r.client().Environment(ctx, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"environment": e}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "key\t%s\ndescription\t%s\ncreated\t%s\nversion\t%d\nflags\t%d\nsegments\t%d\narchived\t%d\n",
			e.Key, e.Description, e.CreatedAt, e.Version, e.Flags, e.Segments, e.Archived)
	})
}

func envCreate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env create", "env create ENV [--description D]", false, stdout, stderr)
	desc := r.fs.String("description", "", "what the environment is for")
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	e, keys, err := r.client().CreateEnvironment(ctx, r.args[0], *desc)
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"environment": e, "sdkKeys": keys}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "created\t%s\nserver key\t%s\nclient key\t%s\n", e.Key, keys.Server, keys.Client)
	})
}

func envDelete(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env delete", "env delete ENV --yes", false, stdout, stderr)
	yes := r.fs.Bool("yes", false, "really delete the environment, its flags, segments, change log and keys")
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	if !*yes {
		return r.usageError("deleting %s removes all its flags and its change log: add --yes", r.args[0])
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.client().DeleteEnvironment(ctx, r.args[0]); err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"deleted": r.args[0]}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "deleted %s\n", r.args[0])
	})
}

func envKeys(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env keys", "env keys ENV", false, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	keys, err := r.client().SDKKeys(ctx, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"sdkKeys": keys}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "server key\t%s\nclient key\t%s\n", keys.Server, keys.Client)
	})
}

func envRotate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env rotate", "env rotate ENV server|client", false, stdout, stderr)
	if !r.parse(args, 2, 2) {
		return exitUsage
	}
	if k := r.args[1]; k != "server" && k != "client" {
		return r.usageError("key kind %q: want server or client", k)
	}
	ctx, cancel := r.ctx()
	defer cancel()
	keys, err := r.client().RotateSDKKey(ctx, r.args[0], r.args[1])
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"sdkKeys": keys}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "server key\t%s\nclient key\t%s\n", keys.Server, keys.Client)
	})
}

func envImport(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env import", "env import ENV FILE", false, stdout, stderr)
	if !r.parse(args, 2, 2) {
		return exitUsage
	}
	data, err := os.ReadFile(r.args[1])
	if err != nil {
		fmt.Fprintf(stderr, "vexil env import: %v\n", err)
		return exitFailure
	}
	if !json.Valid(data) {
		fmt.Fprintf(stderr, "vexil env import: %s: not valid JSON\n", r.args[1])
		return exitInvalid
	}
	ctx, cancel := r.ctx()
	defer cancel()
	res, err := r.client().Import(ctx, r.args[0], data)
	if err != nil {
		return r.fail(err)
	}
	return r.output(res, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "imported %d flags and %d segments into %s: version %d\n", res.Flags, res.Segments, r.args[0], res.Version)
	})
}

func envSnapshot(args []string, stdout, stderr io.Writer) int {
	r := newRemote("env snapshot", "env snapshot ENV", false, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	snap, err := r.client().Snapshot(ctx, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	_, _ = stdout.Write(snap)
	return exitOK
}
