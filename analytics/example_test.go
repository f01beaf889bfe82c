package analytics_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cloudbutton/cloudbutton/analytics"
	"github.com/cloudbutton/cloudbutton/storage"
)

// Partition a file into 8-byte chunks; every line belongs to exactly one
// chunk, the one it starts in.
func ExamplePartition() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "partition-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := storage.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Put(ctx, "log.txt", []byte("alpha\nbravo charlie\ndelta\n")); err != nil {
		log.Fatal(err)
	}
	chunks, err := analytics.Partition(ctx, st, analytics.PartitionRequest{Store: st.URL(), ChunkSize: 8})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range chunks {
		var lines []string
		err := analytics.ReadLines(ctx, st, c, func(line []byte) error {
			lines = append(lines, string(line))
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("[%d,%d) %q\n", c.Offset, c.Offset+c.Length, lines)
	}
	// Output:
	// [0,8) ["alpha" "bravo charlie"]
	// [8,16) []
	// [16,24) ["delta"]
	// [24,26) []
}
