package podman

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// RejectedDir is the directory under OUTPUT_DIR that wheels which do not fit
// their target are moved to, so that OUTPUT_DIR itself only holds wheels
// recorded as built.
const RejectedDir = "rejected"

// failure is why a build's wheels are not delivered.
type failure struct{ reason, msg string }

// deliver audits the wheels of a build against the job's target, retags or
// repairs them when that makes them fit, and returns the wheels to deliver
// and the audit metadata. A wheel that does not fit fails the build (and is
// moved to OUTPUT_DIR/rejected).
func (r *Runner) deliver(ctx context.Context, job pipeline.Job, wheels []pipeline.Wheel, out *syncWriter) ([]pipeline.Wheel, []map[string]any, *failure) {
	target := job.PlatformTag
	if target == "" {
		target = r.target
	}
	if r.auditor == nil || target == "" {
		return wheels, nil, nil
	}
	var delivered []pipeline.Wheel
	var audits []map[string]any
	for _, w := range wheels {
		d, meta, f := r.deliverOne(ctx, job, target, w, out)
		if meta != nil {
			audits = append(audits, meta)
		}
		if f != nil {
			r.reject(w.File, out)
			if d.File != "" && d.File != w.File {
				r.reject(d.File, out)
			}
			return nil, audits, f
		}
		delivered = append(delivered, d)
	}
	return delivered, audits, nil
}

func (r *Runner) deliverOne(ctx context.Context, job pipeline.Job, target string, w pipeline.Wheel, out *syncWriter) (pipeline.Wheel, map[string]any, *failure) {
	dir := r.cmd.opts.OutputDir
	v, err := r.auditor.Check(filepath.Join(dir, w.File), target)
	if err != nil {
		msg := fmt.Sprintf("audit of %s: %v", w.File, err)
		fmt.Fprintf(out, "refinery: %s\n", msg)
		return w, nil, &failure{pipeline.ReasonAudit, msg}
	}
	if len(v.NeedsRepair) > 0 {
		repaired, f := r.repair(ctx, job, target, w, v, out)
		if f != nil {
			return w, v.Metadata, f
		}
		if v, err = r.auditor.Check(filepath.Join(dir, repaired.File), target); err != nil {
			msg := fmt.Sprintf("audit of repaired %s: %v", repaired.File, err)
			return repaired, nil, &failure{pipeline.ReasonAudit, msg}
		}
		w = repaired
		if len(v.NeedsRepair) > 0 {
			msg := fmt.Sprintf("%s still links %s after auditwheel repair", w.File, strings.Join(v.NeedsRepair, ", "))
			fmt.Fprintf(out, "refinery: %s\n", msg)
			return w, v.Metadata, &failure{pipeline.ReasonPlatformMismatch, msg}
		}
	}
	if !v.OK {
		msg := fmt.Sprintf("%s does not fit %s: %s", w.File, target, v.Error)
		fmt.Fprintf(out, "refinery: audit: %s\n", msg)
		reason := v.Reason
		if reason == "" {
			reason = pipeline.ReasonPlatformMismatch
		}
		return w, v.Metadata, &failure{reason, msg}
	}
	if len(v.RetagTo) > 0 {
		newPath, err := r.auditor.Retag(filepath.Join(dir, w.File), v.RetagTo)
		if err != nil {
			msg := fmt.Sprintf("retag %s as %s: %v", w.File, strings.Join(v.RetagTo, "."), err)
			fmt.Fprintf(out, "refinery: %s\n", msg)
			return w, v.Metadata, &failure{pipeline.ReasonAudit, msg}
		}
		retagged, err := inspectWheel(newPath)
		if err != nil {
			return w, v.Metadata, &failure{pipeline.ReasonAudit, err.Error()}
		}
		if retagged.File != w.File {
			_ = os.Remove(filepath.Join(dir, w.File))
		}
		fmt.Fprintf(out, "refinery: audit: retagged %s as %s\n", w.File, retagged.File)
		w = retagged
	}
	fmt.Fprintf(out, "refinery: audit: %s fits %s\n", w.File, target)
	return w, v.Metadata, nil
}

// repair grafts the libraries a wheel links into it with `auditwheel repair`
// in a container of the build's image, and returns the repaired wheel (in
// OUTPUT_DIR, replacing the original).
func (r *Runner) repair(ctx context.Context, job pipeline.Job, target string, w pipeline.Wheel, v Verdict, out *syncWriter) (pipeline.Wheel, *failure) {
	o := r.cmd.opts
	libs := v.NeedsRepair
	work := ".repair-" + job.ID
	if err := os.MkdirAll(filepath.Join(o.OutputDir, work), 0o755); err != nil {
		return w, &failure{pipeline.ReasonRunner, fmt.Sprintf("create repair dir: %v", err)}
	}
	defer os.RemoveAll(filepath.Join(o.OutputDir, work))
	name := r.cmd.ContainerName(job) + "-repair"
	// No --init: without it a missing auditwheel is podman's exit code 127
	// (catatonit would turn it into 1).
	argv := []string{o.Bin, "run", "--rm", "--pull=never", "--name", name,
		"--label", LabelJob + "=" + job.ID, "--label", r.cmd.workerLabel,
		"--label", LabelAttempt + "=" + strconv.Itoa(job.Attempt)}
	if r.cmd.owner != "" {
		argv = append(argv, "--label", LabelOwner+"="+r.cmd.owner)
	}
	argv = append(argv, "--network=none", "-v", o.OutputDir+":/output")
	argv = append(argv, r.cmd.archArgs()...)
	argv = append(argv, r.cmd.image,
		"auditwheel", "repair", "--plat", target, "-w", "/output/"+work, "/output/"+w.File)
	fmt.Fprintf(out, "refinery: audit: %s links %s; repairing: %s\n", w.File, strings.Join(libs, ", "), Join(argv))
	code, stopReason, err := r.runContainer(ctx, name, argv, out)
	switch {
	case err != nil:
		return w, &failure{pipeline.ReasonRunner, err.Error()}
	case stopReason != "":
		return w, &failure{stopReason, fmt.Sprintf("auditwheel repair of %s stopped (%s)", w.File, stopReason)}
	case code == 127:
		msg := fmt.Sprintf("links %s; no auditwheel in the image to graft it (audit: %s)", strings.Join(libs, ", "), v.Error)
		fmt.Fprintf(out, "refinery: audit: %s\n", msg)
		return w, &failure{pipeline.ReasonPlatformMismatch, msg}
	case code != 0:
		msg := fmt.Sprintf("auditwheel repair of %s (links %s) exited with code %d", w.File, strings.Join(libs, ", "), code)
		return w, &failure{pipeline.ReasonPlatformMismatch, msg}
	}
	entries, err := os.ReadDir(filepath.Join(o.OutputDir, work))
	if err != nil || len(entries) != 1 {
		return w, &failure{pipeline.ReasonPlatformMismatch, fmt.Sprintf("auditwheel repair of %s wrote %d wheels, want 1", w.File, len(entries))}
	}
	file := entries[0].Name()
	if err := os.Rename(filepath.Join(o.OutputDir, work, file), filepath.Join(o.OutputDir, file)); err != nil {
		return w, &failure{pipeline.ReasonRunner, fmt.Sprintf("move repaired wheel: %v", err)}
	}
	repaired, err := inspectWheel(filepath.Join(o.OutputDir, file))
	if err != nil {
		return w, &failure{pipeline.ReasonAudit, err.Error()}
	}
	if file != w.File {
		_ = os.Remove(filepath.Join(o.OutputDir, w.File))
	}
	return repaired, nil
}

// reject moves a wheel that is not delivered out of OUTPUT_DIR into
// OUTPUT_DIR/rejected, where an operator can look at it.
func (r *Runner) reject(file string, out *syncWriter) {
	dir := r.cmd.opts.OutputDir
	src := filepath.Join(dir, file)
	if _, err := os.Stat(src); err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Join(dir, RejectedDir), 0o755); err == nil {
		if err = os.Rename(src, filepath.Join(dir, RejectedDir, file)); err == nil {
			fmt.Fprintf(out, "refinery: moved %s to %s/\n", file, RejectedDir)
			return
		}
	}
	r.logger.Warn("could not move a rejected wheel out of the output dir", "wheel", file)
}
