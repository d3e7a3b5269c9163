package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
)

func nameFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("name", "", "what to add")
	return fs
}

var prog = Program{Name: "tool", Default: "serve", Footer: "Settings come from the environment",
	Commands: []Command{{Name: "serve", Summary: "serve forever"}, {Name: "add", Summary: "add one", Flags: nameFlags},
		{Name: "index", Summary: "rebuild | verify", Args: true}}}

func TestParse(t *testing.T) {
	cases := []struct {
		args             []string
		wantCmd          string
		wantRest         string
		wantDone         bool
		wantCode         int
		wantOut, wantErr string
	}{
		{args: nil, wantCmd: "serve"},
		{args: []string{"add", "--name", "x"}, wantCmd: "add", wantRest: "--name x"},
		{args: []string{"index", "rebuild"}, wantCmd: "index", wantRest: "rebuild"},
		{args: []string{"--help"}, wantDone: true, wantOut: "usage: tool [serve|add|index] [flags]"},
		{args: []string{"-h"}, wantDone: true, wantOut: "tool COMMAND --help lists the flags"},
		{args: []string{"help"}, wantDone: true, wantOut: "Settings come from the environment."},
		{args: []string{"help", "add"}, wantDone: true, wantOut: "-name"},
		{args: []string{"help", "nope"}, wantDone: true, wantCode: ExitUsage, wantErr: `unknown command "nope"`},
		{args: []string{"add", "--name", "x", "-help"}, wantDone: true, wantOut: "usage: tool add [flags]"},
		{args: []string{"add", "--", "-h"}, wantCmd: "add", wantRest: "-- -h"},
		{args: []string{"serve", "--help"}, wantDone: true, wantOut: "serve takes no flags."},
		{args: []string{"nope", "--help"}, wantDone: true, wantCode: ExitUsage, wantErr: `unknown command "nope"`},
		{args: []string{"serve", "extra"}, wantDone: true, wantCode: ExitUsage, wantErr: `serve takes no arguments, got ["extra"]`},
		{args: []string{"--verbose"}, wantDone: true, wantCode: ExitUsage, wantErr: "serve takes no arguments"},
		{args: []string{"nope", "x"}, wantCmd: "nope", wantRest: "x"}, // unknown: the caller says so
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			cmd, rest, code, done := prog.Parse(tc.args, &out, &errb)
			if done != tc.wantDone || code != tc.wantCode {
				t.Fatalf("done %v code %d, want %v %d (stderr %q)", done, code, tc.wantDone, tc.wantCode, errb.String())
			}
			if !done && (cmd != tc.wantCmd || strings.Join(rest, " ") != tc.wantRest) {
				t.Errorf("cmd %q rest %q, want %q %q", cmd, rest, tc.wantCmd, tc.wantRest)
			}
			if !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stdout %q stderr %q, want %q / %q", out.String(), errb.String(), tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestCommandHelpEndsWithTheFooter(t *testing.T) {
	var out bytes.Buffer
	if !prog.Help(&out, "add") {
		t.Fatal("add unknown")
	}
	if !strings.HasSuffix(out.String(), "Settings come from the environment (tool config prints it).\n") {
		t.Errorf("help:\n%s", out.String())
	}
}

func TestExit(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		code  int
		plain bool
	}{
		{"success", nil, ExitOK, false},
		{"bad flag", Usagef("plan: %v", "flag provided but not defined: -x"), ExitUsage, true},
		{"cannot start", &StartupError{Err: errors.New("OUTPUT_DIR: create /x: permission denied")}, ExitUsage, true},
		{"wrapped start-up error", fmt.Errorf("serve: %w", &StartupError{Err: errors.New("queue locked")}), ExitUsage, true},
		{"worker failed", errors.New("manifest: disk full"), ExitFailed, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, plain := Exit(tc.err); code != tc.code || plain != tc.plain {
				t.Errorf("Exit(%v) = %d, %v; want %d, %v", tc.err, code, plain, tc.code, tc.plain)
			}
		})
	}
	if got := (&StartupError{Err: errors.New("queue locked")}).Error(); got != "refinery-worker cannot start: queue locked" {
		t.Errorf("StartupError = %q", got)
	}
}
