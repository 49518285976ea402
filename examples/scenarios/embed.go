// Package scenarios holds the simulator's shipped scenarios (YAML) so that
// the binary carries them: Go can only embed files at or below the embedding
// package's directory, hence this package beside the files.
package scenarios

import "embed"

// FS holds the shipped scenario files, one <name>.yaml each.
//
//go:embed *.yaml
var FS embed.FS
