package transport

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

func TestOpen(t *testing.T) {
	srv := testsvc.StartRedis(t)
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
	quiet := slog.New(slog.DiscardHandler)
	cases := []struct {
		name        string
		o           OpenOptions
		inProcess   bool
		durable     bool
		wantErr     string
		wantCloseFn bool
	}{
		{name: "default is in process", o: OpenOptions{}, inProcess: true},
		{name: "memory", o: OpenOptions{Kind: "memory"}, inProcess: true},
		{name: "redis", o: OpenOptions{Kind: "redis", RedisURL: srv.URL, Prefix: "t.", Logger: quiet}, durable: true, wantCloseFn: true},
		{name: "kafka", o: OpenOptions{Kind: "kafka", Brokers: k.Brokers, Prefix: "t.", Logger: quiet}, durable: true, wantCloseFn: true},
		{name: "unknown kind", o: OpenOptions{Kind: "nats"}, wantErr: `transport "nats": want memory, redis or kafka`},
		{name: "redis unreachable", o: OpenOptions{Kind: "redis", RedisURL: "redis://127.0.0.1:1/0", Logger: quiet}, wantErr: "redis transport: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, closeFn, err := Open(context.Background(), tc.o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Open = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if closeFn != nil {
				defer closeFn()
			}
			if tr.InProcess != tc.inProcess || tr.Durable != tc.durable || (closeFn != nil) != tc.wantCloseFn {
				t.Errorf("Open = %+v, close fn %v", tr, closeFn != nil)
			}
		})
	}
}
