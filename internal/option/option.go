// Package option applies the variadic options of the module's public
// packages. They all follow one idiom: an option is a named func type over
// the unexported settings of what it configures, built by a constructor
// that checks its value and returns an error naming the option and the
// value, e.g. "WithStartToCloseTimeout(-1s): negative". The call that
// received the options applies them in order with Apply and prefixes the
// first error with its own name.
package option

import "fmt"

// Apply applies opts to s in order and returns the first error. A nil
// option is reported by its position, counting from 0.
func Apply[S any, O ~func(*S) error](s *S, opts []O) error {
	for i, o := range opts {
		if o == nil {
			return fmt.Errorf("option %d is nil", i)
		}
		if err := o(s); err != nil {
			return err
		}
	}
	return nil
}
