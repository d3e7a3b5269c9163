package handlers

import (
	"context"
	"fmt"
	"os"
)

// DirWritable is a /ready check that dir takes a new file.
func DirWritable(dir string) func(context.Context) error {
	return func(context.Context) error { return writable(dir) }
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
