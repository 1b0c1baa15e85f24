package model

import "strconv"

// resolvePrerequisites links prerequisites to flag indices and rejects what cannot be
// evaluated: unknown flags, out-of-range variations, cycles, chains deeper than
// MaxPrerequisiteDepth, and flags whose prerequisite was itself rejected.
func (p *parser) resolvePrerequisites() {
	flags := p.s.Flags
	p.section = sectionFlags
	reject := func(i, j int, msg string) {
		p.index = i
		at := prerequisitePath(i, j)
		fat := at.at("flag")
		p.problem(&fat, msg)
		flags[i].Rejected = true
	}
	dependents := make([][]int, len(flags))
	pending := make([]int, len(flags))
	for i := range flags {
		for j := range flags[i].Prerequisites {
			pr := &flags[i].Prerequisites[j]
			k, ok := p.s.flagIndex[pr.Key]
			if !ok {
				if pr.Key != "" {
					reject(i, j, "unknown flag "+quote(pr.Key))
				}
				continue
			}
			pr.Flag = k
			for vi, v := range pr.Variations {
				if n := len(flags[k].Variations); v >= n && n > 0 {
					p.index = i
					at := prerequisitePath(i, j)
					vat := at.elem("variations", vi)
					p.problem(&vat, "variation "+strconv.Itoa(v)+" out of range (flag "+quote(pr.Key)+" has "+strconv.Itoa(n)+")")
					flags[i].Rejected = true
				}
			}
			dependents[k] = append(dependents[k], i)
			pending[i]++
		}
	}

	// Kahn's algorithm: settle each flag after all its prerequisites, carrying rejection and
	// depth forward. Flags never settled are in a cycle or depend on one.
	depth := make([]int, len(flags))
	var queue []int
	for i := range flags {
		if pending[i] == 0 {
			queue = append(queue, i)
		}
	}
	settled := make([]bool, len(flags))
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		settled[i] = true
		f := &flags[i]
		for j, pr := range f.Prerequisites {
			if pr.Flag < 0 {
				continue
			}
			if depth[pr.Flag]+1 > depth[i] {
				depth[i] = depth[pr.Flag] + 1
			}
			if flags[pr.Flag].Rejected && !f.Rejected {
				reject(i, j, "prerequisite "+quote(pr.Key)+" was rejected")
			}
		}
		if depth[i] > MaxPrerequisiteDepth && !f.Rejected {
			reject(i, 0, "prerequisite chain deeper than "+strconv.Itoa(MaxPrerequisiteDepth)+" flags")
		}
		for _, d := range dependents[i] {
			if pending[d]--; pending[d] == 0 {
				queue = append(queue, d)
			}
		}
	}

	// Unsettled flags: name the cycle for those in one, the rejected prerequisite for the rest.
	inCycle := make([]string, len(flags))
	for i := range flags {
		if !settled[i] {
			for j, pr := range flags[i].Prerequisites {
				if pr.Flag >= 0 && !settled[pr.Flag] {
					if cycle := p.cyclePath(i, pr.Flag, settled); cycle != "" {
						inCycle[i] = cycle
						reject(i, j, "prerequisite cycle: "+cycle)
						break
					}
				}
			}
		}
	}
	for i := range flags {
		if settled[i] || inCycle[i] != "" {
			continue
		}
		for j, pr := range flags[i].Prerequisites {
			if pr.Flag >= 0 && (!settled[pr.Flag] || flags[pr.Flag].Rejected) {
				if !flags[i].Rejected {
					reject(i, j, "prerequisite "+quote(pr.Key)+" was rejected")
				}
				break
			}
		}
	}
}

// cyclePath returns "a -> b -> a" when from's prerequisite next leads back to from, or "".
// It walks only unsettled flags (the only ones that can be in a cycle), breadth first, so the
// shortest cycle is named.
func (p *parser) cyclePath(from, next int, settled []bool) string {
	flags := p.s.Flags
	prev := map[int]int{next: from}
	queue := []int{next}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if i == from {
			// Walk back from `from` to build the path in order.
			var rev []int
			for k := from; ; {
				rev = append(rev, k)
				k = prev[k]
				if k == from {
					break
				}
			}
			s := flags[from].Key
			for j := len(rev) - 1; j >= 0; j-- {
				s += " -> " + flags[rev[j]].Key
			}
			return s
		}
		for _, pr := range flags[i].Prerequisites {
			if pr.Flag >= 0 && !settled[pr.Flag] {
				if _, seen := prev[pr.Flag]; !seen {
					prev[pr.Flag] = i
					queue = append(queue, pr.Flag)
				}
			}
		}
	}
	return ""
}

// prerequisitePath is the path of flags[i].prerequisites[j].
func prerequisitePath(i, j int) path {
	return path{parent: &path{field: "flags", index: i}, field: "prerequisites", index: j}
}
