// Package httpapi is the HTTP management API of a client.Client: JSON
// under /api/v1, on any engine, described by an OpenAPI 3.1 document at
// /api/v1/openapi.json.
//
//	mux.Handle("/api/v1/", httpapi.New(eng, httpapi.Options{}))
//
// Package server combines it with the dashboard and a token; `cloudbutton
// serve` runs that server for an engine.
//
// # Routes
//
//	POST   /api/v1/instances                        start: {name, id?, input?, reuse?, startAt?} -> 202
//	GET    /api/v1/instances                        list: ?status=&name=&created_after=&created_before=&page_token=&limit=
//	GET    /api/v1/instances/{id}                   status, output, custom status, progress, failure
//	DELETE /api/v1/instances/{id}                   purge a finished instance -> 204
//	GET    /api/v1/instances/{id}/history           the history export (the CLI's history --json)
//	GET    /api/v1/instances/{id}/wait?timeout=     long-poll: 200 once ended, 202 when the timeout passes
//	POST   /api/v1/instances/{id}/events/{name}     raise an event; the body is its payload -> 202
//	POST   /api/v1/instances/{id}/terminate         {reason?} -> 202
//	POST   /api/v1/instances/{id}/suspend           {reason?} -> 202
//	POST   /api/v1/instances/{id}/resume            {reason?} -> 202
//	GET    /api/v1/openapi.json                     the OpenAPI document
//
// A start and every action answer 202 Accepted with a Location (the
// instance's status URL) and an Accepted body: the instance id and its
// Links, Azure Durable Functions' async pattern (statusQueryGetUri,
// sendEventPostUri, terminatePostUri, purgeHistoryDeleteUri, ...). Every
// Instance carries its Links too.
//
// # Waiting
//
// GET .../wait?timeout=30s blocks until the instance has ended and then
// answers 200 with the Instance. If the timeout (a Go duration or whole
// seconds; default Options.DefaultWait, at most Options.MaxWait) passes
// first, it answers 202 Accepted with the Instance as it is and a
// Location to wait again: a client loops while it gets 202. Serve it with
// an http.Server whose WriteTimeout, if any, exceeds MaxWait.
//
// # Listing
//
// GET /api/v1/instances answers an InstanceList: a page of at most limit
// instances (default 50, at most 1000) and, unless it is the last, a
// nextPageToken and the URL of the next page (next). Tokens are opaque
// (client.ListPage): keyset paging on the embedded engine, newest first;
// Temporal's page token on Temporal, in its visibility order. A malformed
// token gets 400 naming page_token.
//
// # Payloads
//
// Inputs, outputs, custom statuses and event payloads are the engine
// codec's bytes. With the JSON codec (the default) they are embedded as
// JSON values, as sent; with any other codec they are base64 strings, in
// requests and in answers.
//
// # Errors
//
// An error is a Problem (RFC 9457, application/problem+json) whose type
// is "urn:cloudbutton:problem:" and a kind. The kinds are those of the
// CLI's exit codes (one rule, internal/errkind, decides an error's kind):
//
//	404 not-found        unknown instance (CLI exit code 3), or no such route
//	409 already-exists   the id is taken (reuse: reject, or a live instance)
//	409 not-running      an event, terminate or purge that the instance's state refuses
//	400 unknown-name     no worker registers the orchestrator (engines that check names)
//	400 bad-input        malformed JSON, a wrong type, an unknown field or query
//	                     parameter, a bad page token (exit code 2); field names it
//	413 too-large        a body over Options.MaxBodyBytes (limit names it), or a
//	                     payload over the engine's limit
//	405 method-not-allowed  e.g. GET on an action; Allow lists the methods
//	403 forbidden        a cross-origin browser request that would change state
//	501 unsupported      the engine lacks the feature (errors.ErrUnsupported), with its reason
//	503 unavailable      the engine is closed, or the server is stopping (a cancelled request)
//	500 internal         anything else (logged)
//
// # Security
//
// Actions are POST or DELETE only, and the handler refuses cross-origin
// browser requests that change state (http.CrossOriginProtection). It
// authenticates nothing: mount it behind your own authentication, or use
// package server, which requires a bearer token when one is set and
// otherwise accepts loopback Host headers only.
//
// The handler is safe for concurrent use.
package httpapi
