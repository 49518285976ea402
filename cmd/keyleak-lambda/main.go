// Command keyleak-lambda is keyleak's unattended responder as an AWS Lambda
// function on the provided.al2023 runtime (the binary is named bootstrap in
// its zip: make lambda). examples/auto-response deploys it behind an
// EventBridge rule on AWS Health's RISK events.
package main

import (
	"os"

	"github.com/keyleak/keyleak/internal/autorespond"
)

func main() { os.Exit(autorespond.Main()) }
