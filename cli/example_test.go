package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/cli"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// The program's own code.
var (
	double  = activity.New("double", func(ctx context.Context, x int) (int, error) { return 2 * x, nil })
	doubler = orchestration.New("doubler", func(ctx orchestration.Context, x int) (int, error) {
		return orchestration.Call(ctx, double, x).Await(ctx)
	})
)

// Main is the whole main of a program that is the CloudButton CLI for its
// own orchestrators and activities: `go run . worker --db app.db` hosts
// them, `go run . --db app.db start doubler 21 --wait` runs one.
func ExampleMain() {
	cli.Main(cli.Registrations{
		Orchestrators: []orchestration.Definition{doubler},
		Activities:    []activity.Definition{double},
	})
}

// Run is the CLI without the process: here a worker of the program's
// registrations runs in the background on a temporary SQLite file, and
// `start --wait` runs one orchestration through it.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "cli-example")
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "app.db")
	regs := cli.Registrations{
		Orchestrators: []orchestration.Definition{doubler},
		Activities:    []activity.Definition{double},
	}

	ctx, stop := context.WithCancel(context.Background())
	running := &signalOn{text: "worker running", c: make(chan struct{})}
	worker := make(chan int)
	go func() { worker <- cli.Run(ctx, regs, []string{"--db", db, "worker"}, io.Discard, running) }()
	<-running.c

	var out bytes.Buffer
	code := cli.Run(context.Background(), regs, []string{"--db", db, "start", "doubler", "21", "--id", "d1", "--wait"}, &out, os.Stderr)
	fmt.Print(out.String())
	fmt.Println("exit code", code)

	stop() // as Ctrl-C does
	fmt.Println("worker exit code", <-worker)
	// Output:
	// d1
	// 42
	// exit code 0
	// worker exit code 0
}

// signalOn is a log writer that closes c once text is written.
type signalOn struct {
	text string
	c    chan struct{}
	once sync.Once
}

func (s *signalOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), s.text) {
		s.once.Do(func() { close(s.c) })
	}
	return len(p), nil
}
