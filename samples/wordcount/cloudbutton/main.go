// Command cloudbutton is the CloudButton CLI of the word-count sample: the
// full CLI (package cli), whose worker hosts the word count's
// orchestrators and activities and whose replay checks histories against
// their code. It is how an application builds its own CLI: one call to
// cli.Main with its registrations.
//
//	go run ./samples/wordcount/cloudbutton --db wc.db worker &
//	go run ./samples/wordcount/cloudbutton --db wc.db start wordcount \
//	    '{"input":"'"$(go env GOROOT)"'/src/net"}' --id wc-1 --wait
//	go run ./samples/wordcount/cloudbutton --db wc.db history wc-1 --json > wc-1.json
//	go run ./samples/wordcount/cloudbutton replay wc-1.json
//
// The stock binary, cmd/cloudbutton, hosts only the benchmark workloads;
// its client commands (status, wait, history, ...) work on word counts
// all the same.
package main

import (
	"github.com/cloudbutton/cloudbutton/cli"
	"github.com/cloudbutton/cloudbutton/samples/wordcount/wordcount"
)

func main() { cli.Main(registrations()) }

// registrations are the word count's orchestrators and activities.
func registrations() cli.Registrations {
	return cli.Registrations{Orchestrators: wordcount.Orchestrators(), Activities: wordcount.Activities()}
}
