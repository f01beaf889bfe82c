package codec_test

import (
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/codec"
)

// Payloads go through a codec and are bounded in size; the error names
// the size and the limit.
func ExampleEncode() {
	type order struct{ Item string }
	data, _ := codec.Encode(codec.JSON, codec.Limits{}, "input", order{Item: "book"})
	back, err := codec.Decode[order](codec.JSON, "input", data)
	fmt.Println(string(data), back.Item, err)
	_, err = codec.Encode(codec.JSON, codec.Limits{MaxPayload: 8}, "input", order{Item: "a long title"})
	var size *codec.SizeError
	fmt.Println(errors.As(err, &size), size.Size, size.Limit)
	// Output:
	// {"Item":"book"} book <nil>
	// true 23 8
}
