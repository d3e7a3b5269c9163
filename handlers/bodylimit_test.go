package handlers

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// onlyReader hides the length of a body: the client sends it chunked.
type onlyReader struct{ io.Reader }

// An oversized body sent chunked (no Content-Length) is answered 413 on
// every POST route, like one whose length is known.
func TestOversizedChunkedBodyIs413(t *testing.T) {
	srv, _ := newTestHTTP(t, "tok")
	big := `{"action":"` + strings.Repeat("x", 4096) + `"}`
	for _, path := range []string{"/trigger", "/plan"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, onlyReader{strings.NewReader(big)})
		req.Header.Set("X-Worker-Token", "tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "too large") {
			t.Errorf("POST %s chunked oversized: %d %s, want 413", path, resp.StatusCode, body)
		}
	}
	// A small chunked body still reaches the handler.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/trigger", onlyReader{strings.NewReader(`{"action":"drain"}`)})
	req.Header.Set("X-Worker-Token", "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("small chunked trigger: %d, want 202", resp.StatusCode)
	}
}
