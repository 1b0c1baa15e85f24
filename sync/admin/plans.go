package admin

import (
	"net/http"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

// planBody creates a staged rollout plan; the daemon keeps the stage and who made it.
type planBody struct {
	Stages    []float64 `json:"stages"`
	Rule      string    `json:"rule,omitempty"`
	Variation *int      `json:"variation,omitempty"`
	Baseline  *int      `json:"baseline,omitempty"`
}

func (a *api) getPlan(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	st, err := a.Store.ReadKey(r.Context(), r.PathValue("env"), key, store.Flags, store.Archived, store.Plans)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !st.Has(store.Plans, key) {
		a.fail(w, r, notFound("plan of flag", key))
		return
	}
	body := flagResponse(st, key)
	body["version"] = st.Version
	setETag(w, st.Version)
	writeJSON(w, http.StatusOK, body)
}

// putPlan creates or replaces a flag's plan. Nothing is served differently until the first
// advance.
func (a *api) putPlan(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var b planBody
	if err := a.decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "plan.create", flagSubject(key), func(st *store.State) error {
		f, err := loadActive(st, key)
		if err != nil {
			return err
		}
		v, base := -1, -1
		if b.Variation != nil {
			v = *b.Variation
		}
		if b.Baseline != nil {
			base = *b.Baseline
		}
		if v, base, err = f.DefaultVariations(v, base); err != nil {
			return err
		}
		p := flagdoc.Plan{Rule: b.Rule, Variation: v, Baseline: base, Stages: b.Stages, Stage: -1,
			CreatedAt: a.stamp(), CreatedBy: actor(r)}
		if err := f.CheckPlan(&p); err != nil {
			return err
		}
		st.Put(store.Plans, key, &p)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, key) })
}

func (a *api) deletePlan(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	a.apply(w, r, "plan.delete", flagSubject(key), func(st *store.State) error {
		if !st.Has(store.Plans, key) {
			return notFound("plan of flag", key)
		}
		st.Delete(store.Plans, key)
		return nil
	}, nil)
}

// stepPlan advances a plan to its next stage or rolls it back to the previous one (before the
// first: 0 %), changing the plan and the flag's rollout in one change.
func (a *api) stepPlan(w http.ResponseWriter, r *http.Request) {
	key, step := r.PathValue("key"), r.PathValue("step")
	if step != "advance" && step != "rollback" {
		writeError(w, http.StatusNotFound, "not_found", "no plan step "+quote(step)+" (advance, rollback)",
			[]flagdoc.FieldError{{Field: "step", Message: "want advance or rollback"}})
		return
	}
	if _, err := query(r); err != nil {
		a.fail(w, r, err)
		return
	}
	a.apply(w, r, "plan."+step, flagSubject(key), func(st *store.State) error {
		var p flagdoc.Plan
		if !st.Get(store.Plans, key, &p) {
			return notFound("plan of flag", key)
		}
		f, err := loadActive(st, key)
		if err != nil {
			return err
		}
		if step == "advance" {
			if p.Stage+1 >= len(p.Stages) {
				return &wrapped{msg: "the plan of flag " + quote(key) + " is at its last stage", err: store.ErrExists}
			}
			p.Stage++
		} else {
			if p.Stage < 0 {
				return &wrapped{msg: "the plan of flag " + quote(key) + " has not started", err: store.ErrExists}
			}
			p.Stage--
		}
		weight := 0
		if p.Stage >= 0 {
			weight, _ = flagdoc.Weight("stages", p.Stages[p.Stage]) // checked when the plan was made
		}
		if err := f.SetRollout(p.Rule, p.Variation, p.Baseline, weight); err != nil {
			return err
		}
		a.putFlagDoc(st, store.Flags, f)
		st.Put(store.Plans, key, &p)
		return nil
	}, func(st *store.State) map[string]any { return flagResponse(st, key) })
}
