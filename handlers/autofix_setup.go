package handlers

import (
	"context"
	"log/slog"
	"time"
)

// PackageManagers names the package manager of a build image (podman).
type PackageManagers interface {
	PackageManager(ctx context.Context, image string) (string, error)
}

// AutoFixOptions are what NewAutoFix decides from.
type AutoFixOptions struct {
	// Enabled is AUTO_FIX.
	Enabled bool
	// Hints is the hint catalog; nil when there is none.
	Hints HintRecipes
	// PackageManagers is nil without a container runner.
	PackageManagers PackageManagers
	// Image is the build image whose package manager the recipes are for.
	Image string
	// MinConfidence is AUTO_FIX_MIN_CONFIDENCE.
	MinConfidence float64
	Logger        *slog.Logger
}

// packageManagerTimeout bounds reading the image's package manager.
const packageManagerTimeout = time.Minute

// NewAutoFix is the report stage's auto-fix, or nil when it is off or cannot
// work: no catalog, no container runner, or an image whose package manager
// is unknown (each said in the log).
func NewAutoFix(ctx context.Context, o AutoFixOptions) *AutoFix {
	if !o.Enabled {
		return nil
	}
	if o.Hints == nil || o.PackageManagers == nil {
		o.Logger.Warn("AUTO_FIX is on but there is no hint catalog or no podman runner: auto-fix is off")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, packageManagerTimeout)
	defer cancel()
	pm, err := o.PackageManagers.PackageManager(ctx, o.Image)
	if err != nil {
		o.Logger.Warn("AUTO_FIX is on but the image's package manager is unknown: auto-fix is off", "err", err)
		return nil
	}
	o.Logger.Info("auto-fix on", "package_manager", pm, "min_confidence", o.MinConfidence)
	return &AutoFix{MinConfidence: o.MinConfidence, PackageManager: pm, Hints: o.Hints}
}
