package rawjson_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/rawjson"
)

func TestStable(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{"a":[1,2]}`, true}, {`"x"`, true}, {`null`, true}, {`"\u003c\u0026"`, true}, {`"é"`, true},
		{``, false}, {`{"a" : 1}`, false}, {` 1`, false}, {"1\n", false}, {`"<"`, false}, {`"a&b"`, false},
		{"\"\u2028\"", false}, {"\"\xff\"", false}, {"\xff", false}, {`{"a":`, false}, {`"\\"`, true}, {`"\"<"`, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, rawjson.Stable([]byte(tt.in)), "%q", tt.in)
	}
}

// FuzzStable: Stable holds exactly when encoding/json copies p as is
// inside another document.
func FuzzStable(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]}`, `"x"`, `null`, `"<"`, ` 1`, "\"\u2028\"", "\xff", `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		stable := rawjson.Stable(p)
		if !json.Valid(p) {
			require.False(t, stable)
			return
		}
		out, err := json.Marshal(struct{ V json.RawMessage }{p})
		require.NoError(t, err)
		copied := bytes.Equal(out, append(append([]byte(`{"V":`), p...), '}'))
		if stable {
			require.True(t, copied, "stable %q was rewritten: %s", p, out)
		} else {
			require.True(t, !copied || len(p) == 0 || !json.Valid(p) || !utf8Valid(p), "%q is copied as is but not called stable", p)
		}
	})
}

func utf8Valid(p []byte) bool { return bytes.Equal([]byte(string([]rune(string(p)))), p) }
