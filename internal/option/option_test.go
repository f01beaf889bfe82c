package option

import (
	"errors"
	"testing"
)

type settings struct{ n int }

type opt func(*settings) error

func set(n int) opt {
	return func(s *settings) error {
		if n < 0 {
			return errors.New("negative")
		}
		s.n = n
		return nil
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		opts    []opt
		want    int
		wantErr string
	}{
		{"none", nil, 0, ""},
		{"in order, last wins", []opt{set(1), set(2)}, 2, ""},
		{"first error", []opt{set(1), set(-1), set(-2)}, 1, "negative"},
		{"nil by position", []opt{set(1), nil}, 1, "option 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			err := Apply(&s, tt.opts)
			if got := errString(err); got != tt.wantErr {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
			if s.n != tt.want {
				t.Fatalf("n = %d, want %d", s.n, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
