package cli

import (
	"errors"
	"fmt"
)

// Exit statuses of the program.
const (
	ExitOK     = 0
	ExitFailed = 1 // the worker itself failed
	ExitUsage  = 2 // bad flags or configuration, or a worker that cannot start
)

// UsageError is a bad command line: shown as its message, exit status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// StartupError is a worker that could not start (a directory, the queue, a
// file it keeps): a message and exit status 2, like a bad configuration.
type StartupError struct{ Err error }

func (e *StartupError) Error() string { return "refinery-worker cannot start: " + e.Err.Error() }
func (e *StartupError) Unwrap() error { return e.Err }

// Exit is the exit status for a command's error, and whether the error is
// shown as a plain message (usage, start-up) rather than logged as a
// failure of the worker.
func Exit(err error) (code int, plain bool) {
	var ue *UsageError
	var se *StartupError
	switch {
	case err == nil:
		return ExitOK, false
	case errors.As(err, &ue), errors.As(err, &se):
		return ExitUsage, true
	default:
		return ExitFailed, false
	}
}
