// Package dashboard is a web dashboard over any engine's client.Client:
// server-rendered HTML with a little plain JavaScript, its assets
// embedded, no front-end build step.
//
//	http.ListenAndServe("127.0.0.1:8233", dashboard.New(eng, dashboard.Options{}))
//
// # Pages
//
// / lists instances, newest first, with filters (status, orchestrator
// name, created after), a search by instance id, paging, and counts per
// status that update live. /instances/{id} shows an instance: its
// status, input, output, custom status and failure (with its stack);
// actions (raise an event, terminate, suspend, resume, purge); its history
// as a table (the embedded engine's cloudbutton.history/v1, or Temporal's
// events rendered generically), and the export itself at
// /instances/{id}/history.json; links to its parent and its
// sub-orchestrations; and a timeline of every activity attempt.
//
// # The timeline
//
// One row per activity call, in order of scheduling, and one bar per
// attempt: a thin segment while it waits to start, a bar while it runs,
// coloured by outcome (completed, failed, retried, running), so that a
// fan-out's width, its stragglers and its retries show at a glance. Above
// the rows, the number of attempts in flight over time; the critical path
// (the chain of calls that bounds the instance's activity time: the
// straggler of each wave of a fan-out) is outlined. Past
// Options.MaxTimelineBars attempts, consecutive calls are drawn as
// aggregated rows and only the notable attempts get bars of their own.
// Map/MapReduce jobs of package analytics (and any fan-out of at least
// 50 calls of one activity) get a histogram of attempt durations beside
// the timeline.
//
// # Live pages
//
// A live instance's page polls a small JSON endpoint,
// /instances/{id}/live.json, every Options.RefreshInterval, refreshes its
// parts when what it shows has changed, and stops once the instance has
// ended; running bars grow in between. Polling rather than server-sent
// events keeps the handler stateless: no connection outlives its request,
// so the server that mounts it shuts down at once and any proxy passes it.
//
// # Security
//
// The handler does no authentication: mount it behind the server's (see
// cloudbutton serve). Every action is a POST form, confirmed first (by a
// JavaScript confirm, or a confirmation page without JavaScript), and
// protected against cross-site request forgery by
// http.CrossOriginProtection, which refuses a browser's cross-origin
// POST, another port of the same host included. A per-session form token
// would add nothing for the browsers that send Sec-Fetch-Site or Origin
// (all current ones), and would make the handler keep sessions. GET
// requests never change anything. Pages are served with a
// Content-Security-Policy that allows only the embedded script and style
// sheet and forbids framing; all user data is escaped by html/template,
// and the hand-written SVG escapes every text it holds.
//
// # Errors
//
// An unknown instance is a 404 page; a bad query or form value a 400 that
// names the field; an instance in the wrong state for an action a 409; an
// action the engine does not support (errors.ErrUnsupported) a 501.
package dashboard
