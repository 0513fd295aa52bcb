// Package problems is what a fact could not read: a list of errors that the rules judging the
// fact turn into an ERROR naming them.
package problems

import (
	"strings"
)

// List is a fact's problems, in the order they were met.
type List []error

// Err joins the problems into one error ("; " between them), nil when there are none. The
// error wraps each problem (errors.Is and errors.As see them).
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return joined(l)
}

type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, e := range j {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }
