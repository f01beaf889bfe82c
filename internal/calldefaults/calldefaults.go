// Package calldefaults carries the default activity-call options of an
// orchestration.Context (orchestration.WithCallOptions) across a
// sub-orchestration boundary, as plain data. The analytics package needs
// it: it splits large maps into sub-orchestrations, whose activity calls
// must start from the caller's defaults as calls made in the caller do.
//
// The orchestration package sets both functions in its init; the contexts
// are typed any because this package cannot import orchestration.
package calldefaults

import "github.com/cloudbutton/cloudbutton/internal/core"

var (
	// Of returns the defaults of ctx, an orchestration.Context, resolved
	// into the options they give a call (nil when there are none), or the
	// error of an invalid default option.
	Of func(ctx any) (*core.ActivityOptions, error)
	// With returns ctx, an orchestration.Context, with defaults d in place
	// of those it had.
	With func(ctx any, d core.ActivityOptions) any
)
