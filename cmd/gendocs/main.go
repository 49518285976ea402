// Command gendocs writes keyleak's man pages: go run ./cmd/gendocs DIR
// (make man writes them into bin/man).
package main

import (
	"fmt"
	"os"

	"github.com/keyleak/keyleak/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := cli.WriteManPages(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs: "+err.Error())
		os.Exit(1)
	}
}
