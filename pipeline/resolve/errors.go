package resolve

import "errors"

// ErrNotFound is wrapped when an index has no project of a name.
var ErrNotFound = errors.New("project not found")
