// Package server is CloudButton's management server as an http.Handler:
// the HTTP API (package httpapi) at /api/v1/ and the web dashboard at /,
// for one engine. `cloudbutton serve` runs it; mount it in your own
// server just as well:
//
//	http.Handle("/", server.New(eng, server.Options{Token: os.Getenv("CLOUDBUTTON_TOKEN")}))
//
// # Security
//
// With Options.Token set, every request needs the token, API calls and
// pages alike: "Authorization: Bearer TOKEN", or, for a browser, a link
// with ?token=TOKEN once (as Jupyter does), which sets an HttpOnly,
// SameSite=Strict cookie and redirects to the same URL without the token.
// Tokens are compared in constant time. A missing or wrong token gets
// 401 with a problem+json body that says how to send one and nothing
// else.
//
// Without a token, the server answers only requests whose Host header is
// a loopback name or address (localhost, 127.0.0.1, [::1]) or one of
// Options.AllowedHosts: a web page cannot reach it through DNS rebinding.
// Serve it on a loopback address then; on any other, set a token (`serve`
// refuses to listen on one without).
//
// Either way, actions are POST or DELETE only, and cross-origin browser
// requests that would change state are refused with 403
// (http.CrossOriginProtection): a page on another site cannot act through
// a visitor's browser. Answers carry X-Content-Type-Options: nosniff and
// X-Frame-Options: DENY.
//
// The handler is safe for concurrent use.
package server
