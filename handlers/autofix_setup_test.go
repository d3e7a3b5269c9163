package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type fakeRecipes struct{}

func (fakeRecipes) Recipes(string) (map[string][]string, bool) { return nil, false }

type fakePackageManagers struct {
	pm  string
	err error
}

func (f fakePackageManagers) PackageManager(context.Context, string) (string, error) {
	return f.pm, f.err
}

func TestNewAutoFix(t *testing.T) {
	cases := []struct {
		name    string
		o       AutoFixOptions
		wantPM  string // "": nil
		wantLog string
	}{
		{name: "off", o: AutoFixOptions{Hints: fakeRecipes{}, PackageManagers: fakePackageManagers{pm: "apt"}}},
		{name: "no catalog", o: AutoFixOptions{Enabled: true, PackageManagers: fakePackageManagers{pm: "apt"}},
			wantLog: "no hint catalog or no podman runner"},
		{name: "no runner", o: AutoFixOptions{Enabled: true, Hints: fakeRecipes{}}, wantLog: "no hint catalog or no podman runner"},
		{name: "unknown package manager", o: AutoFixOptions{Enabled: true, Hints: fakeRecipes{},
			PackageManagers: fakePackageManagers{err: errors.New("no os-release")}}, wantLog: "package manager is unknown"},
		{name: "on", o: AutoFixOptions{Enabled: true, Hints: fakeRecipes{}, MinConfidence: 0.7,
			PackageManagers: fakePackageManagers{pm: "dnf"}}, wantPM: "dnf", wantLog: "auto-fix on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			tc.o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			af := NewAutoFix(context.Background(), tc.o)
			if (af == nil) != (tc.wantPM == "") || (af != nil && (af.PackageManager != tc.wantPM || af.MinConfidence != tc.o.MinConfidence)) {
				t.Errorf("NewAutoFix = %+v, want package manager %q", af, tc.wantPM)
			}
			if !strings.Contains(logs.String(), tc.wantLog) || (tc.wantLog == "" && logs.Len() > 0) {
				t.Errorf("log %q, want %q", logs.String(), tc.wantLog)
			}
		})
	}
}
