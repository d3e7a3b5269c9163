package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// PrintStatus asks the worker serving on addr (WORKER_HTTP_ADDR; ":port"
// means this host) for /status and prints it indented (the status command).
func PrintStatus(ctx context.Context, addr, token string, out io.Writer) error {
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if token != "" {
		req.Header.Set("X-Worker-Token", token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("status: is a worker serving on %s? %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("status: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("status: answer is not JSON: %w", err)
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	fmt.Fprintln(out, string(b))
	return nil
}
