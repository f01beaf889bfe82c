// Command cloudbutton is the stock CloudButton CLI: start, observe and
// control orchestrations on the embedded engine (a SQLite file) or on
// Temporal, replay histories, serve functions locally, and benchmark.
//
// Its worker hosts only the benchmark workloads (bench.fanout,
// bench.sequence and their activity bench.noop). To host your own
// orchestrators and activities, make your own main the CLI with package
// cli (samples/wordcount/cloudbutton does so for the word count):
//
//	func main() {
//		cli.Main(cli.Registrations{Orchestrators: app.Orchestrators(), Activities: app.Activities()})
//	}
//
// Exit codes: 0 success; 1 error; 2 bad usage; 3 instance not found;
// 4 the orchestration ended Failed or Terminated (wait, start --wait);
// 5 timed out waiting.
package main

import (
	"github.com/cloudbutton/cloudbutton/cli"
	"github.com/cloudbutton/cloudbutton/internal/bench"
)

func main() {
	cli.Main(cli.Registrations{Orchestrators: bench.Orchestrators(), Activities: bench.Activities()})
}
