package podman

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// smokeScript runs in the smoke test container: install the wheel offline
// (the container has no network), then import the modules or run the
// command. Everything variable arrives as positional parameters, never as
// script text: $1 mode (import or run), $2 the wheel, then modules or argv.
const smokeScript = `set -eu
mode=$1 wheel=$2
shift 2
py=python3
if [ -n "${PYTHON_VERSION:-}" ] && command -v "python$PYTHON_VERSION" >/dev/null 2>&1; then
	py=python$PYTHON_VERSION
fi
echo "smoke: $py -m pip install --no-index --no-deps $wheel"
"$py" -m pip install --no-index --no-deps --no-cache-dir --disable-pip-version-check "$wheel"
cd /tmp
if [ "$mode" = import ]; then
	exec "$py" -c "$SMOKE_IMPORT" "$@"
fi
exec "$@"
`

// smokeImport imports each module named on its command line.
// A module missing from the wheel itself is named with a hint: the wheel is
// installed without its dependencies.
const smokeImport = `import importlib, sys
mods = sys.argv[1:]
for m in mods:
    try:
        mod = importlib.import_module(m)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] not in mods:
            print("smoke: importing", m, "needs", e.name, "which this wheel does not contain; the smoke test installs",
                  "it without dependencies (--no-deps): set SMOKE_TEST to a command, or off", file=sys.stderr)
        raise
    print("smoke: imported", m, "from", getattr(mod, "__file__", None))
`

var moduleRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// smokeTest installs wheel (a file in OUTPUT_DIR) offline in a fresh
// container of the build's image without network and imports its
// top-level modules, or runs the configured command. It returns "" when the
// test passed, else what failed; the container's output goes to out.
func (r *Runner) smokeTest(ctx context.Context, job pipeline.Job, wheel string, out *syncWriter) (string, error) {
	if r.smoke == nil {
		return "", nil
	}
	inContainer := "/output/" + wheel
	var tail []string
	if len(r.smoke) == 0 {
		mods, err := topLevelModules(r.cmd.opts.OutputDir + "/" + wheel)
		if err != nil {
			return "", err
		}
		if len(mods) == 0 {
			fmt.Fprintf(out, "refinery: smoke test: %s names no top-level module; installing only\n", wheel)
		}
		tail = append([]string{"import", inContainer}, mods...)
	} else {
		tail = []string{"run", inContainer}
		for _, a := range r.smoke {
			tail = append(tail, strings.ReplaceAll(a, "{wheel}", inContainer))
		}
	}
	name := r.cmd.ContainerName(job) + "-smoke"
	argv := r.smokeCommand(job, name, inContainer, tail)
	// The script and the import code are fixed (smokeScript, smokeImport);
	// the log shows what varies.
	fmt.Fprintf(out, "refinery: smoke test: %s in a fresh %s container without network: pip install --no-index --no-deps, then %s\n",
		wheel, r.cmd.image, smokeWhat(tail))
	code, stopReason, err := r.runContainer(ctx, name, argv, out)
	switch {
	case err != nil:
		return "", err
	case stopReason != "":
		return fmt.Sprintf("smoke test of %s stopped (%s)", wheel, stopReason), nil
	case code != 0:
		return fmt.Sprintf("smoke test of %s failed with exit code %d (log: lines after \"refinery: smoke test\")", wheel, code), nil
	}
	fmt.Fprintf(out, "refinery: smoke test of %s passed\n", wheel)
	return "", nil
}

// smokeCommand is the podman command line of a smoke test container: the
// build's labels, image and limits, no network, OUTPUT_DIR read-only.
func (r *Runner) smokeCommand(job pipeline.Job, name, wheel string, tail []string) []string {
	c, o := r.cmd, r.cmd.opts
	args := []string{o.Bin, "run", "--rm", "--init", "--pull=never", "--name", name,
		"--label", LabelJob + "=" + job.ID, "--label", c.workerLabel,
		"--label", LabelAttempt + "=" + strconv.Itoa(job.Attempt)}
	if c.owner != "" {
		args = append(args, "--label", LabelOwner+"="+c.owner)
	}
	args = append(args, "--timeout", strconv.FormatInt(seconds(o.Timeout+o.StopGrace+backstopSlack), 10),
		"--network=none", "-v", o.OutputDir+":/output:ro",
		"-e", "PYTHON_VERSION="+job.PythonVersion, "-e", "WHEEL="+wheel,
		"-e", "PIP_BREAK_SYSTEM_PACKAGES=1", "-e", "PIP_ROOT_USER_ACTION=ignore",
		"-e", "SMOKE_IMPORT="+smokeImport, "-e", "PYTHONDONTWRITEBYTECODE=1")
	if o.Memory != "" {
		args = append(args, "--memory", o.Memory)
	}
	if o.CPUs != "" {
		args = append(args, "--cpus", o.CPUs)
	}
	if o.PidsLimit > 0 {
		args = append(args, "--pids-limit", strconv.Itoa(o.PidsLimit))
	}
	args = append(args, c.archArgs()...)
	args = append(args, c.image, "sh", "-c", smokeScript, "smoke")
	return append(args, tail...)
}

// topLevelModules lists the importable top-level modules of a wheel: from
// *.dist-info/top_level.txt when present, else from the paths in RECORD.
func topLevelModules(file string) ([]string, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("smoke test: open %s: %w", path.Base(file), err)
	}
	defer zr.Close()
	var topLevel, record *zip.File
	for _, f := range zr.File {
		dir, rest, ok := strings.Cut(f.Name, "/")
		if !ok || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		switch rest {
		case "top_level.txt":
			topLevel = f
		case "RECORD":
			record = f
		}
	}
	var names []string
	add := func(n string) {
		if moduleRE.MatchString(n) && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case topLevel != nil:
		err = eachLine(topLevel, func(l string) { add(strings.TrimSpace(strings.ReplaceAll(l, "/", "."))) })
	case record != nil:
		err = eachLine(record, func(l string) {
			p, _, _ := strings.Cut(l, ",")
			first, _, nested := strings.Cut(p, "/")
			switch {
			case strings.HasSuffix(first, ".dist-info") || strings.HasSuffix(first, ".data"):
			case nested:
				add(first)
			case strings.HasSuffix(first, ".py"):
				add(strings.TrimSuffix(first, ".py"))
			case strings.HasSuffix(first, ".so"):
				mod, _, _ := strings.Cut(first, ".")
				add(mod)
			}
		})
	}
	if err != nil {
		return nil, fmt.Errorf("smoke test: %s: %w", path.Base(file), err)
	}
	slices.Sort(names)
	return names, nil
}

func eachLine(f *zip.File, fn func(string)) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", f.Name, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(io.LimitReader(rc, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", f.Name, err)
	}
	return nil
}

// smokeWhat says what a smoke test runs after the install.
func smokeWhat(tail []string) string {
	if tail[0] == "import" {
		if len(tail) == 2 {
			return "nothing (no top-level module)"
		}
		return "import " + strings.Join(tail[2:], ", ")
	}
	return Join(tail[2:])
}
