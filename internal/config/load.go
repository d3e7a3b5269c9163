package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Load reads the configuration from environ (KEY=VALUE strings) and
// validates it. The error, an *Error, lists every bad variable, one per
// line.
func Load(environ []string) (Config, error) {
	var cfg Config
	opts := env.Options{
		Environment: env.ToMap(environ),
		FuncMap: map[reflect.Type]env.ParserFunc{
			reflect.TypeOf(Interval(0)): func(v string) (any, error) { return ParseInterval(v) },
			reflect.TypeOf(Overrides{}): func(v string) (any, error) { return parseOverrides(v) },
			reflect.TypeOf(URLList{}):   func(v string) (any, error) { return parseURLList(v) },
			reflect.TypeOf(ByteSize(0)): func(v string) (any, error) { return ParseByteSize(v) },
		},
	}
	var problems []string
	unparsed := map[string]bool{} // variables whose value did not parse
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		for _, p := range envErrors(err) {
			key, _, _ := strings.Cut(p, ": ")
			unparsed[key] = true
			problems = append(problems, p)
		}
	}
	for _, p := range cfg.validate() {
		// The zero value left by a parse error is no second problem.
		if key, _, _ := strings.Cut(p, ": "); !unparsed[key] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return cfg, &Error{Problems: problems}
	}
	cfg.PythonFullVersion = cfg.PythonVersion
	cfg.PythonVersion = pyMinorRE.FindString(cfg.PythonVersion)
	cfg.workerIDSet = cfg.WorkerID != ""
	if cfg.WorkerID == "" {
		host, _ := os.Hostname()
		cfg.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return cfg, nil
}

// Error lists every invalid variable, each as "VAR: reason", sorted.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// envErrors turns caarlos0/env's errors into "VAR: reason" lines.
func envErrors(err error) []string {
	keys := envKeys()
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	var out []string
	for _, e := range errs {
		var pe env.ParseError
		if errors.As(e, &pe) {
			cause := pe.Err
			var ne *strconv.NumError
			if errors.As(cause, &ne) {
				cause = fmt.Errorf("%q is not a valid %s", ne.Num, pe.Type)
			}
			out = append(out, fmt.Sprintf("%s: %v", keys[pe.Name], cause))
			continue
		}
		out = append(out, e.Error())
	}
	return out
}

// envKeys maps Config field names to their variables.
func envKeys() map[string]string {
	t := reflect.TypeOf(Config{})
	m := make(map[string]string, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		m[f.Name] = strings.Split(f.Tag.Get("env"), ",")[0]
	}
	return m
}
