package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/codec"
)

type order struct {
	Item  string            `json:"item"`
	Qty   int               `json:"qty"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
	Next  *order            `json:"next"`
}

// FuzzJSONCodec: any payload, decoded into any of the types activities
// and orchestrators declare, gives a value or a *codec.DecodeError that
// names the payload and the type (never a panic); a value that decodes
// encodes again, under the limit or as a *codec.SizeError naming size and
// limit, and decodes to the same value.
func FuzzJSONCodec(f *testing.F) {
	for _, s := range []string{
		`{"item":"book","qty":2,"tags":["a"],"attrs":{"k":"v"},"next":{"item":"pen","qty":1}}`,
		`"ada"`, `42`, `-0`, `1e400`, `9223372036854775808`, `true`, `null`, ``, `[]`, `{}`, `"\ud800"`, `"\u0000"`,
		`{"qty":"2"}`, `{"item":1}`, `[1,2,3]`, `{"a":`, "\xff", `"` + strings.Repeat("x", 100) + `"`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		if len(data) > 64<<10 {
			t.Skip("bounded input")
		}
		lim := codec.Limits{MaxPayload: int(limit)}
		check := func(typ string, err error) {
			var de *codec.DecodeError
			require.ErrorAs(t, err, &de)
			require.ErrorIs(t, err, codec.ErrDecode)
			require.Contains(t, err.Error(), `input of activity "fuzz"`, "the error names the payload")
			require.Contains(t, err.Error(), typ, "the error names the type")
		}
		roundTrip := func(v any, decode func([]byte) (any, error)) {
			out, err := codec.EncodeNamed(codec.JSON, lim, "result of activity", "fuzz", v)
			if err != nil {
				var se *codec.SizeError
				require.ErrorAs(t, err, &se, "%v", err)
				require.Equal(t, lim.Max(), se.Limit)
				require.Greater(t, se.Size, se.Limit)
				require.Contains(t, err.Error(), `result of activity "fuzz"`)
				return
			}
			require.LessOrEqual(t, len(out), lim.Max())
			back, err := decode(out)
			require.NoError(t, err, "%s", out)
			require.Equal(t, v, back, "%s", out)
		}
		if v, err := codec.DecodeNamed[order](codec.JSON, "input of activity", "fuzz", data); err != nil {
			check("codec_test.order", err)
		} else {
			roundTrip(v, func(b []byte) (any, error) { return codec.Decode[order](codec.JSON, "x", b) })
		}
		if v, err := codec.DecodeNamed[string](codec.JSON, "input of activity", "fuzz", data); err != nil {
			check("string", err)
		} else {
			roundTrip(v, func(b []byte) (any, error) { return codec.Decode[string](codec.JSON, "x", b) })
		}
		if v, err := codec.DecodeNamed[int](codec.JSON, "input of activity", "fuzz", data); err != nil {
			check("int", err)
		} else {
			roundTrip(v, func(b []byte) (any, error) { return codec.Decode[int](codec.JSON, "x", b) })
		}
		if v, err := codec.DecodeNamed[any](codec.JSON, "input of activity", "fuzz", data); err != nil {
			check("interface {}", err)
		} else {
			roundTrip(v, func(b []byte) (any, error) { return codec.Decode[any](codec.JSON, "x", b) })
		}
		if err := codec.CheckSize(lim, "payload", data); err != nil {
			require.True(t, errors.Is(err, codec.ErrPayloadTooLarge))
			require.Greater(t, len(data), lim.Max())
		}
	})
}
