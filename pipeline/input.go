package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// InputError is input that the enqueue command refuses: a line that is not
// JSON, or an item the drain would reject. Nothing is enqueued then.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// EnqueueInput is what the enqueue command adds: it (with recipes, a
// comma-separated list) when it names a package, else the JSON lines of
// stdin (the control-plane's item format; blank lines are skipped). Every
// item is decoded and validated first: what the drain would reject is
// refused here, where the sender sees it, as an *InputError.
func EnqueueInput(it Item, recipes string, stdin io.Reader) ([][]byte, error) {
	var items [][]byte
	var where []string // each item's origin, for errors
	if it.Package != "" {
		if recipes != "" {
			it.Recipes = strings.Split(recipes, ",")
		}
		it.EnqueuedAt = time.Now().Unix()
		b, err := json.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("encode item: %w", err)
		}
		items, where = append(items, b), append(where, "the item of the flags")
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if !json.Valid([]byte(line)) {
				return nil, &InputError{fmt.Sprintf("stdin line %d is not valid JSON", n)}
			}
			items, where = append(items, []byte(line)), append(where, fmt.Sprintf("stdin line %d", n))
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
	}
	for i, b := range items {
		it, err := DecodeItem(b)
		if err == nil {
			_, err = ValidateItem(it)
		}
		if err != nil {
			return nil, &InputError{fmt.Sprintf("%s: %v (nothing enqueued)", where[i], err)}
		}
	}
	return items, nil
}
