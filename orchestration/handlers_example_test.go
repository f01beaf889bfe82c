package orchestration_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

// A thermostat whose target a client reads with a query and changes with
// an update, which a validator checks first; it runs until "off".
func ExampleHandleUpdate() {
	thermostat := orchestration.New("thermostat", func(ctx orchestration.Context, target int) (int, error) {
		err := errors.Join(
			orchestration.HandleQuery(ctx, "target", func(struct{}) (int, error) { return target, nil }),
			orchestration.HandleUpdate(ctx, "set", func(ctx orchestration.Context, t int) (int, error) {
				old := target
				target = t
				return old, nil
			}, orchestration.WithValidator(func(t int) error {
				if t < 5 || t > 30 {
					return fmt.Errorf("%d°C is out of range (5 to 30)", t)
				}
				return nil
			})),
		)
		if err != nil {
			return 0, err
		}
		_, err = orchestration.WaitEvent[struct{}](ctx, "off", 0).Await(ctx)
		return target, err
	})

	env := orchestrationtest.New(nil)
	defer env.Close()
	orchestrationtest.UpdateAfter(env, time.Minute, "set", 22, func(old int, err error) { fmt.Println("set 22: was", old, err) })
	orchestrationtest.UpdateAfter(env, 2*time.Minute, "set", 99, func(_ int, err error) { fmt.Println(err) })
	orchestrationtest.QueryAfter(env, 3*time.Minute, "target", struct{}{}, func(t int, err error) { fmt.Println("target", t, err) })
	orchestrationtest.RaiseEventAfter(env, time.Hour, "off", struct{}{})
	out, err := orchestrationtest.Run(env, thermostat, 19)
	fmt.Println(out, err)
	// Output:
	// set 22: was 19 <nil>
	// client: update rejected: update "set" of instance "test-instance": 99°C is out of range (5 to 30)
	// target 22 <nil>
	// 22 <nil>
}
