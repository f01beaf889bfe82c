package functionhost_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

var upper = activity.New("upper", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })

// A local Lambda-compatible host on a loopback port, with one in-process
// function; workers reach it through faas/awslambda with its address as
// the endpoint.
func ExampleNew() {
	cfg, err := functionhost.ParseConfig([]byte("functions:\n  upper:\n    activity: upper\n"), ".")
	if err != nil {
		log.Fatal(err)
	}
	h, err := functionhost.New(cfg, functionhost.Options{Activities: []activity.Definition{upper}})
	if err != nil {
		log.Fatal(err)
	}
	addr, err := h.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close(context.Background())
	fmt.Println(strings.HasPrefix(addr, "http://127.0.0.1:"), h.FunctionNames())

	// Every request is signed with the host's credentials.
	id, secret := h.Credentials()
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: addr, AccessKeyID: id, SecretAccessKey: secret})
	if err != nil {
		log.Fatal(err)
	}
	inv, err := awslambda.New(client, awslambda.Options{DefaultFunction: "upper"})
	if err != nil {
		log.Fatal(err)
	}
	out, err := inv.Invoke(context.Background(), faas.Request{Activity: "upper", Input: []byte(`"ada"`), InstanceID: "i-1", TaskID: 1, Attempt: 1})
	fmt.Println(string(out), err)
	// Output:
	// true [upper]
	// "ADA" <nil>
}
