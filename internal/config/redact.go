package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
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
