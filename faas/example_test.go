package faas_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
)

func ExampleNewInProcess() {
	double := activity.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	inv, err := faas.NewInProcess([]activity.Definition{double}, faas.InProcessOptions{MaxConcurrent: 8})
	if err != nil {
		panic(err)
	}
	out, err := inv.Invoke(context.Background(), faas.Request{Activity: "double", Input: []byte("21"), Attempt: 1})
	fmt.Println(string(out), err)

	_, err = inv.Invoke(context.Background(), faas.Request{Activity: "triple", Input: []byte("1")})
	var fe *faas.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Kind, fe.NonRetryable)
	}
	// Output:
	// 42 <nil>
	// function-not-found true
}
