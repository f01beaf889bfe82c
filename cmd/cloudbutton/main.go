// Command cloudbutton is the CloudButton CLI.
//
// This file is a temporary root command so that `cloudbutton functions`
// builds; the CLI's real root command replaces it.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "cloudbutton", Short: "Durable serverless orchestration", SilenceUsage: true}
	root.AddCommand(newFunctionsCmd())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
