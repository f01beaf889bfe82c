package activity_test

import (
	"context"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/codec"
)

// An activity is a typed function with a name; engines call Execute with
// encoded input, as a FaaS invocation would.
func ExampleNew() {
	charge := activity.New("charge", func(ctx context.Context, cents int) (string, error) {
		if cents <= 0 {
			return "", activity.NewNonRetryableError("InvalidAmount", fmt.Sprintf("%d cents", cents))
		}
		return fmt.Sprintf("charged %d", cents), nil
	})
	ctx := context.Background()
	out, err := charge.Execute(ctx, codec.JSON, codec.Limits{}, []byte(`250`))
	fmt.Println(string(out), err)
	_, err = charge.Execute(ctx, codec.JSON, codec.Limits{}, []byte(`0`))
	fmt.Println(activity.IsType(err, "InvalidAmount"), err)
	// Output:
	// "charged 250" <nil>
	// true InvalidAmount: 0 cents
}
