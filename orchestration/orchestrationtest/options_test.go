package orchestrationtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// fatalTB records the Fatalf of New and stops it there.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func TestInvalidEnvOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  orchestrationtest.Option
		want string
	}{
		{"zero start time", orchestrationtest.WithStartTime(time.Time{}), "WithStartTime(0001-01-01T00:00:00Z): zero time"},
		{"empty instance id", orchestrationtest.WithInstanceID(""), `WithInstanceID(""): empty`},
		{"nil codec", orchestrationtest.WithCodec(nil), "WithCodec(nil)"},
		{"zero payload limit", orchestrationtest.WithMaxPayload(0), "WithMaxPayload(0): want at least 1 byte"},
		{"negative payload limit", orchestrationtest.WithMaxPayload(-5), "WithMaxPayload(-5): want at least 1 byte"},
		{"zero deadlock timeout", orchestrationtest.WithDeadlockTimeout(0), "WithDeadlockTimeout(0s): want a positive duration"},
		{"negative deadlock timeout", orchestrationtest.WithDeadlockTimeout(-time.Second), "WithDeadlockTimeout(-1s): want a positive duration"},
		{"nil option", nil, "option 1 is nil"},
	}
	for _, tt := range tests {
		opts := []orchestrationtest.Option{orchestrationtest.WithoutReplayCheck(), tt.opt}
		want := "orchestrationtest.New: " + tt.want
		t.Run(tt.name+" fails the test", func(t *testing.T) {
			tb := &fatalTB{TB: t}
			func() {
				defer func() {
					if r := recover(); r != tb {
						panic(r)
					}
				}()
				orchestrationtest.New(tb, opts...)
				t.Fatal("New accepted the option")
			}()
			assert.Equal(t, want, tb.msg)
		})
		t.Run(tt.name+" panics outside a test", func(t *testing.T) {
			require.PanicsWithValue(t, want, func() { orchestrationtest.New(nil, opts...) })
		})
	}
}
