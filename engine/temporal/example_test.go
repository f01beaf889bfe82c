package temporal_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Open the engine on a local dev server, host the orchestrators and
// activities in a worker, and start an orchestration through the same
// client API as the embedded engine. (Not run: it needs a dev server,
// `temporal server start-dev --ip 127.0.0.1`.)
func ExampleOpen() {
	ctx := context.Background()
	eng, err := temporal.Open(ctx, temporal.Options{HostPort: "127.0.0.1:7233", TaskQueue: "cloudbutton"})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()

	w := worker.New(eng, worker.Options{})
	w.RegisterOrchestrators(greeter)
	w.RegisterActivities(greet, shout)
	if err := w.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer w.Stop(ctx)

	id, err := client.Start(ctx, eng, greeter, "world")
	if err != nil {
		log.Fatal(err)
	}
	out, err := client.Result(ctx, eng, greeter, id)
	fmt.Println(out, err)
}

// The data converter passes the codec's bytes through unchanged, as
// "json/plain" payloads for the JSON codec.
func ExampleDataConverter() {
	dc := temporal.DataConverter(codec.JSON)
	p, _ := dc.ToPayload([]byte(`{"word": "cloud", "count": 2}`))
	fmt.Println(string(p.GetMetadata()["encoding"]), string(p.GetData()))
	var back []byte
	_ = dc.FromPayload(p, &back)
	fmt.Println(string(back))
	// Output:
	// json/plain {"word": "cloud", "count": 2}
	// {"word": "cloud", "count": 2}
}
