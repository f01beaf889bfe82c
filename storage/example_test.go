package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cloudbutton/cloudbutton/storage"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A plain path opens a Local store; "s3://bucket/prefix?endpoint=..."
	// opens an S3 one.
	st, err := storage.Open(ctx, dir)
	if err != nil {
		log.Fatal(err)
	}
	for key, text := range map[string]string{"logs/b.txt": "bravo\n", "logs/a.txt": "alpha\n", "other": "x"} {
		if err := st.Put(ctx, key, []byte(text)); err != nil {
			log.Fatal(err)
		}
	}
	objs, err := st.List(ctx, "logs/")
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range objs {
		fmt.Println(o.Key, o.Size)
	}
	part, err := storage.ReadAll(ctx, st, "logs/a.txt", 1, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", part)
	// Output:
	// logs/a.txt 6
	// logs/b.txt 6
	// lph
}
