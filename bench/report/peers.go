package report

import (
	"fmt"
	"strings"
)

// perFlag returns rows with each engine's time per flag: its "ns/flag" metric, else its time
// per call over flags (an engine that reports no count evaluates every flag). Peers evaluate
// the flags they could translate (bench/peers), so evaluate-all compares time per flag.
func perFlag(in *Input, rows []row, flags int) []row {
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		if st, ok := in.Set.Stat(r.name, "ns/flag"); ok {
			r.st = st
		} else {
			r.st.Median, r.st.Min, r.st.Max = r.st.Median/float64(flags), r.st.Min/float64(flags), r.st.Max/float64(flags)
		}
		out = append(out, r)
	}
	return out
}

// translated notes, under a table, how many of the scenario's flags each peer ran: the
// "flags" metric of bench/peers' benchmarks (the flags it could translate into its format).
func translated(w func(string, ...any), in *Input, rows []row, flags int) {
	var parts []string
	for _, r := range rows {
		if st, ok := in.Set.Stat(r.name, "flags"); ok && r.eng.Peer {
			parts = append(parts, fmt.Sprintf("%s %s", r.eng.Label, count(int(st.Median))))
		}
	}
	if len(parts) == 0 {
		return
	}
	w("Flags translated into each peer's format, of %s (the rest use a construct the peer cannot express; bench/README.md, \"The peers\"): %s.\n\n",
		count(flags), strings.Join(parts, ", "))
}

// count writes n with thousands separators (1,000).
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
