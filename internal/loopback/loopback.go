// Package loopback tells loopback host names and addresses apart: what
// the server accepts as a Host header without a token, and what `serve`
// may listen on without one.
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host (a name or an IP, without a port) can only
// mean this machine: "localhost" or a name under ".localhost" (RFC 6761),
// or a loopback IP (127.0.0.0/8, ::1).
func Host(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// HostPort is Host of a "host:port" (or a bare host). An empty host, as
// in ":8233", means every interface: not loopback.
func HostPort(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return host != "" && Host(host)
}
