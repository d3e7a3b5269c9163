package config

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/redact"
)

// Redacted returns the configuration as VAR → printable value, with secrets
// replaced by [REDACTED] (set) or "" (unset), and passwords cut from URLs.
func (c Config) Redacted() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("env"), ",")[0]
		if key == "" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		switch fv := v.Field(i).Interface().(type) {
		case URLList:
			parts := make([]string, len(fv))
			for j, s := range fv {
				parts[j] = s
				if f.Tag.Get("secretURL") == "true" {
					parts[j] = redactURL(s)
				}
			}
			val = strings.Join(parts, ",")
		case []string:
			val = strings.Join(fv, ",")
		case Overrides:
			b, _ := json.Marshal(fv)
			val = string(b)
			if len(fv) == 0 {
				val = ""
			}
		case string:
			if f.Tag.Get("secretURL") == "true" {
				val = redactURL(fv)
			}
		}
		if f.Tag.Get("secret") == "true" && val != "" {
			val = "[REDACTED]"
		}
		out[key] = val
	}
	return out
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "[REDACTED]")
	}
	return u.String()
}

// WriteRedacted prints Redacted as sorted VAR=value lines (the config
// command).
func (c Config) WriteRedacted(w io.Writer) error {
	m := c.Redacted()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, err := fmt.Fprintf(w, "%s=%s\n", k, m[k]); err != nil {
			return fmt.Errorf("print configuration: %w", err)
		}
	}
	return nil
}

// Secrets are the values to mask in logs, events and files: the tokens, the
// object store key, index passwords (also inside the index and Redis URLs),
// and every *_TOKEN/_SECRET/_PASSWORD/_KEY variable of environ (they may
// reach builds).
func (c Config) Secrets(environ []string) []string {
	list := append(redact.SecretsFromEnv(environ), c.WorkerToken, c.ControlPlaneToken, c.ObjectStoreSecretKey, c.IndexPassword)
	return append(list, redact.URLPasswords(append([]string{c.IndexURL, c.RedisURL}, c.ExtraIndexURL...)...)...)
}
