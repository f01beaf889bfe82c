package lambdawire

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/faas"
)

// TestForeignErrorTypes: a foreign function's errorType is kept as it
// is; only our marker after a type, or Lambda's own types, mean more.
func TestForeignErrorTypes(t *testing.T) {
	tests := []struct {
		name         string
		e            ErrorResponse
		kind         faas.Kind
		typ          string
		nonRetryable bool
	}{
		{"Go", ErrorResponse{Type: "errorString", Message: "m"}, faas.KindApplication, "errorString", false},
		{"Python", ErrorResponse{Type: "ValueError", Message: "m"}, faas.KindApplication, "ValueError", false},
		{"a type named NonRetryable", ErrorResponse{Type: "NonRetryable", Message: "m"}, faas.KindApplication, "NonRetryable", false},
		{"only the marker", ErrorResponse{Type: NonRetryableSuffix, Message: "m"}, faas.KindApplication, NonRetryableSuffix, false},
		{"ours", ErrorResponse{Type: "Invalid" + NonRetryableSuffix, Message: "m"}, faas.KindApplication, "Invalid", true},
		{"a typed error that mentions a timeout", ErrorResponse{Type: "ReadTimeout", Message: "Task timed out after 3.00 seconds"}, faas.KindApplication, "ReadTimeout", false},
		{"Lambda's timeout", ErrorResponse{Type: TypeTimeout, Message: "RequestId: r Error: Task timed out after 3.00 seconds"}, faas.KindTimeout, TypeTimeout, false},
		{"older Lambda's timeout", ErrorResponse{Message: "2024-01-01T00:00:00.000Z r Task timed out after 3.00 seconds"}, faas.KindTimeout, "", false},
		{"crash", ErrorResponse{Type: TypeExit, Message: "exit status 1"}, faas.KindCrash, TypeExit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := tt.e.ToError("fn")
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Equal(t, tt.typ, fe.Type)
			assert.Equal(t, tt.nonRetryable, fe.NonRetryable)
		})
	}
}
