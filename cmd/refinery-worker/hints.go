package main

import (
	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/adapters/reporting"
)

// hintSource is where the hint catalog comes from: the control-plane, else
// HINTS_FILE; nil: no catalog.
func hintSource(cfg Config, cp *reporting.Link) hints.Source {
	switch {
	case cp != nil:
		return hints.ControlPlane{Client: cp.Client()}
	case cfg.HintsFile != "":
		return hints.File{Path: cfg.HintsFile}
	}
	return nil
}

// buildImage is the image the podman runner builds in.
func buildImage(cfg Config) string {
	c, err := podman.NewCommander(podmanOptions(cfg))
	if err != nil {
		return ""
	}
	return c.Image()
}
