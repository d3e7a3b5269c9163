package redact_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline/redact"
)

func TestStreamingSplitAcrossWrites(t *testing.T) {
	secrets := []string{"s3cr3t-token-value", "hunter22", "abc"} // "abc" is too short to count
	r := redact.New(secrets...)
	input := "start s3cr3t-token-value mid hunter22hunter22 abc s3cr3t-token-valu end s3cr3t-token-value"
	want := "start [REDACTED] mid [REDACTED][REDACTED] abc s3cr3t-token-valu end [REDACTED]"
	if got := r.String(input); got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	// Every way of cutting the input into two and three chunks.
	for i := 0; i <= len(input); i++ {
		for j := i; j <= len(input); j += 3 {
			var out bytes.Buffer
			w := redact.NewWriter(&out, r)
			for _, chunk := range []string{input[:i], input[i:j], input[j:]} {
				if n, err := w.Write([]byte(chunk)); err != nil || n != len(chunk) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != want {
				t.Fatalf("cut at %d,%d: got %q", i, j, out.String())
			}
		}
	}
}

func TestByteAtATime(t *testing.T) {
	r := redact.New("password123")
	var out bytes.Buffer
	w := redact.NewWriter(&out, r)
	in := strings.Repeat("x password123 y\n", 50)
	for i := range len(in) {
		_, _ = w.Write([]byte{in[i]})
	}
	_ = w.Close()
	if got, want := out.String(), strings.Repeat("x [REDACTED] y\n", 50); got != want {
		t.Fatalf("got %q", got)
	}
}

func TestNoSecretsPassesThrough(t *testing.T) {
	var out bytes.Buffer
	w := redact.NewWriter(&out, redact.New())
	_, _ = w.Write([]byte("hello"))
	if out.String() != "hello" || redact.New().String("x") != "x" {
		t.Fatal("text changed without secrets")
	}
	var nilR *redact.Redactor
	if nilR.String("abc") != "abc" {
		t.Fatal("nil redactor changed text")
	}
}

func TestSecretsFromEnv(t *testing.T) {
	env := []string{"CONTROL_PLANE_TOKEN=cp-token-1", "WORKER_TOKEN=wk-token-2", "OBJECT_STORE_SECRET_KEY=objsecret",
		"PIP_PASSWORD=pipsecret", "SOME_SECRET=shh-secret", "API_KEY=short", "EMPTY_TOKEN=", "PATH=/usr/bin:/bin",
		"TOKEN_FILE=/etc/not-a-secret", "REDIS_KEY=refinery:queue", "redis_key=refinery:queue", "DEPLOY_KEY=deploy-key-9"}
	got := redact.SecretsFromEnv(env)
	want := []string{"cp-token-1", "wk-token-2", "objsecret", "pipsecret", "shh-secret", "deploy-key-9"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestURLPasswords(t *testing.T) {
	got := redact.URLPasswords("https://user:s3cret-pass@index.example/simple", "redis://:redispw@localhost:6379/0",
		"https://user@index.example/", "http://[::1:bad", "")
	if want := []string{"s3cret-pass", "redispw"}; !slices.Equal(got, want) {
		t.Errorf("URLPasswords = %q, want %q", got, want)
	}
}
