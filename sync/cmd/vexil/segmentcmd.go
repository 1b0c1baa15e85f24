package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

func runSegment(args []string, stdout, stderr io.Writer) int {
	return subcommands("segment", []command{
		{"list", "list segments", segmentList},
		{"get", "show one segment", segmentGet},
		{"create", "create a segment: KEY [--description D], or --file FILE", segmentCreate},
		{"update", "replace a segment with --file FILE (--if-match VERSION)", segmentUpdate},
		{"add", "KEY USER...: add users to the segment (--excluded: to its excluded list)", segmentMembers("add")},
		{"remove", "KEY USER...: remove users from the segment (--excluded: from its excluded list)", segmentMembers("remove")},
		{"delete", "delete a segment (refused while a flag uses it)", segmentDelete},
	}, args, stdout, stderr)
}

func printSegment(r *remote, ss client.SegmentState) int {
	return r.output(ss, func(tw *tabwriter.Writer) {
		if s := ss.Segment; s != nil {
			fmt.Fprintf(tw, "key\t%s\n", s.Key)
			if s.Description != "" {
				fmt.Fprintf(tw, "description\t%s\n", s.Description)
			}
			fmt.Fprintf(tw, "included\t%s\nexcluded\t%s\nrules\t%d\n", strings.Join(s.Included, ", "), strings.Join(s.Excluded, ", "), len(s.Rules))
		}
		fmt.Fprintf(tw, "version\t%d\n", ss.Version)
	})
}

func segmentList(args []string, stdout, stderr io.Writer) int {
	r := newRemote("segment list", "segment list", true, stdout, stderr)
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	segs, version, err := r.client().Segments(ctx, *r.env)
	if err != nil {
		return r.fail(err)
	}
	return r.output(map[string]any{"version": version, "segments": segs}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "KEY\tINCLUDED\tEXCLUDED\tRULES\tDESCRIPTION")
		for _, s := range segs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", s.Key, len(s.Included), len(s.Excluded), len(s.Rules), s.Description)
		}
	})
}

func segmentGet(args []string, stdout, stderr io.Writer) int {
	r := newRemote("segment get", "segment get KEY", true, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	ss, err := r.client().Segment(ctx, *r.env, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return printSegment(r, ss)
}

func segmentCreate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("segment create", "segment create (KEY [--description D] | --file FILE)", true, stdout, stderr)
	file := r.fs.String("file", "", "segment document `FILE` (- for stdin)")
	desc := r.fs.String("description", "", "description of a new, empty segment")
	if !r.parse(args, 0, 1) {
		return exitUsage
	}
	var s *flagdoc.Segment
	switch {
	case *file != "" && len(r.args) == 0:
		s = &flagdoc.Segment{}
		if err := readDoc(*file, s); err != nil {
			fmt.Fprintf(stderr, "vexil segment create: %v\n", err)
			return exitInvalid
		}
	case *file == "" && len(r.args) == 1:
		s = &flagdoc.Segment{Key: r.args[0], Description: *desc}
	default:
		return r.usageError("give KEY or --file FILE")
	}
	ctx, cancel := r.ctx()
	defer cancel()
	ss, err := r.client().CreateSegment(ctx, *r.env, s)
	if err != nil {
		return r.fail(err)
	}
	return printSegment(r, ss)
}

func segmentUpdate(args []string, stdout, stderr io.Writer) int {
	r := newRemote("segment update", "segment update --file FILE [--if-match VERSION]", true, stdout, stderr)
	file := r.fs.String("file", "", "segment document `FILE` (- for stdin)")
	match := r.ifMatchFlag()
	if !r.parse(args, 0, 0) {
		return exitUsage
	}
	if *file == "" {
		return r.usageError("--file is required")
	}
	var s flagdoc.Segment
	if err := readDoc(*file, &s); err != nil {
		fmt.Fprintf(stderr, "vexil segment update: %v\n", err)
		return exitInvalid
	}
	ctx, cancel := r.ctx()
	defer cancel()
	ss, err := r.client().UpdateSegment(ctx, *r.env, &s, match())
	if err != nil {
		return r.fail(err)
	}
	return printSegment(r, ss)
}

func segmentMembers(verb string) func([]string, io.Writer, io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		r := newRemote("segment "+verb, "segment "+verb+" KEY USER... [--excluded]", true, stdout, stderr)
		excluded := r.fs.Bool("excluded", false, "the excluded list instead of the included one")
		if !r.parse(args, 2, -1) {
			return exitUsage
		}
		list := "included"
		if *excluded {
			list = "excluded"
		}
		var add, remove []string
		if verb == "add" {
			add = r.args[1:]
		} else {
			remove = r.args[1:]
		}
		ctx, cancel := r.ctx()
		defer cancel()
		ss, err := r.client().SegmentMembers(ctx, *r.env, r.args[0], list, add, remove)
		if err != nil {
			return r.fail(err)
		}
		return printSegment(r, ss)
	}
}

func segmentDelete(args []string, stdout, stderr io.Writer) int {
	r := newRemote("segment delete", "segment delete KEY", true, stdout, stderr)
	if !r.parse(args, 1, 1) {
		return exitUsage
	}
	ctx, cancel := r.ctx()
	defer cancel()
	ss, err := r.client().DeleteSegment(ctx, *r.env, r.args[0])
	if err != nil {
		return r.fail(err)
	}
	return r.output(ss, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "deleted %s at version %d\n", r.args[0], ss.Version)
	})
}
