package main

import (
	"fmt"
	"net/url"

	"github.com/refinery/refinery-worker/adapters/wheelstore"
)

// indexProblems validates PUBLIC_URL and ARTIFACT_STORE_URL.
func (c *Config) indexProblems() []string {
	var p []string
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			p = append(p, fmt.Sprintf("PUBLIC_URL: %q is not an http(s)://host[:port][/path] URL without query or credentials", c.PublicURL))
		}
	}
	if c.ArtifactStoreURL != "" {
		if _, _, _, _, err := wheelstore.ParseStoreURL(c.ArtifactStoreURL); err != nil {
			p = append(p, "ARTIFACT_STORE_URL: "+err.Error())
		}
	}
	return p
}
