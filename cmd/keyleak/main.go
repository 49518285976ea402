// Command keyleak walks an AWS operator through the response to a leaked
// access key: contain, investigate, assess, clean up, report.
package main

import (
	"os"

	"github.com/keyleak/keyleak/internal/cli"
)

func main() { os.Exit(cli.Main()) }
