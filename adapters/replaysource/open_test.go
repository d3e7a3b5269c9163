package replaysource_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/replaysource"
)

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name, transport, url, wantType, wantErr string
	}{
		{"redis", "redis", "redis://127.0.0.1:6379/0", "replaysource.RedisSource", ""},
		{"kafka", "kafka", "", "replaysource.KafkaSource", ""},
		{"bad redis url", "redis", "http://x", "", "REDIS_URL: "},
		{"memory", "memory", "", "", `transport "memory" keeps no topic`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, closeFn, err := replaysource.Open(tc.transport, tc.url, []string{"127.0.0.1:9092"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(typeName(src), "*"); got != tc.wantType {
				t.Errorf("source %s, want %s", got, tc.wantType)
			}
			if err := closeFn(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
