package loopback_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/internal/loopback"
)

func TestHostPort(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"127.0.0.1:8233", true},
		{"127.1.2.3:80", true},
		{"localhost:8233", true},
		{"LOCALHOST.", true},
		{"app.localhost:1", true},
		{"[::1]:8233", true},
		{"::1", true},
		{"[::ffff:127.0.0.1]:1", true},
		{"localhost", true},
		{":8233", false},
		{"0.0.0.0:8233", false},
		{"[::]:8233", false},
		{"192.168.1.10:8233", false},
		{"example.com:80", false},
		{"localhost.example.com", false},
		{"127.0.0.1.nip.io:80", false},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, loopback.HostPort(tt.in), tt.in)
	}
}
