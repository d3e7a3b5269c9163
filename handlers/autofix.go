package handlers

import (
	"encoding/json"
	"slices"

	"github.com/refinery/refinery-worker/pipeline"
)

// Metadata and queue item keys of auto-fix.
const (
	// MetaAutoFixNext, on a failed outcome turned into a retry by
	// auto-fix, holds {"hint_ids": [...], "recipes": [...]}: what the
	// requeue stage adds to the item.
	MetaAutoFixNext = "auto_fix_next"
	// ItemAutoFixHints is the queue item field (kept in Item.Extra) naming
	// the hints an auto-fix retry runs with.
	ItemAutoFixHints = "auto_fix_hints"
)

// HintRecipes looks up a catalog hint's recipes per package manager.
type HintRecipes interface {
	Recipes(hintID string) (map[string][]string, bool)
}

// AutoFix retries a failed build once with the recipes of its matched
// hints (AUTO_FIX).
type AutoFix struct {
	// MinConfidence is the least confidence a hint needs (0..1).
	MinConfidence float64
	// PackageManager is the build image's: apt or dnf.
	PackageManager string
	Hints          HintRecipes
}

// AutoFixPlan is what an auto-fix retry adds.
type AutoFixPlan struct {
	HintIDs []string `json:"hint_ids"`
	Recipes []string `json:"recipes"`
}

// plan returns the recipes to retry w with: those of the matched hints that
// meet the confidence, for the image's package manager, valid as queue
// recipes, and not already in the build's recipes (so a retry that fails
// again with them is not auto-fixed again). ok is false when there are none.
func (a *AutoFix) plan(w *pipeline.Work) (AutoFixPlan, bool) {
	if a == nil || a.Hints == nil || a.PackageManager == "" || w.Result == nil || w.Request == nil ||
		w.Result.Status != pipeline.StatusFailed {
		return AutoFixPlan{}, false
	}
	switch w.Result.Reason {
	case pipeline.ReasonShutdown, pipeline.ReasonCancelled:
		return AutoFixPlan{}, false
	}
	if w.Request.Item.Attempts+1 >= pipeline.MaxAttempts {
		return AutoFixPlan{}, false
	}
	f, ok := pipeline.FailureOf(w.Result.Metadata)
	if !ok {
		return AutoFixPlan{}, false
	}
	have := w.Request.Recipes
	if w.Job != nil {
		have = w.Job.Recipes
	}
	var p AutoFixPlan
	for _, h := range f.Hints {
		if h.Confidence < a.MinConfidence {
			continue
		}
		byPM, ok := a.Hints.Recipes(h.ID)
		if !ok {
			continue
		}
		added := false
		for _, pkg := range byPM[a.PackageManager] {
			r := a.PackageManager + ":" + pkg
			if pipeline.ValidateRecipe(r) != nil || slices.Contains(have, r) || slices.Contains(p.Recipes, r) {
				continue
			}
			p.Recipes = append(p.Recipes, r)
			added = true
		}
		if added {
			p.HintIDs = append(p.HintIDs, h.ID)
		}
	}
	return p, len(p.Recipes) > 0
}

// autoFixOf reads MetaAutoFixNext back (after a JSON round trip too).
func autoFixOf(meta map[string]any) (AutoFixPlan, bool) {
	v, ok := meta[MetaAutoFixNext]
	if !ok {
		return AutoFixPlan{}, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return AutoFixPlan{}, false
	}
	var p AutoFixPlan
	if json.Unmarshal(raw, &p) != nil || len(p.Recipes) == 0 {
		return AutoFixPlan{}, false
	}
	return p, true
}

// autoFixHintsOf is the hint ids an item's auto-fix retry runs with.
func autoFixHintsOf(it pipeline.Item) []string {
	var ids []string
	if raw, ok := it.Extra[ItemAutoFixHints]; ok && json.Unmarshal(raw, &ids) != nil {
		return nil
	}
	return ids
}
