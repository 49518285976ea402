package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"
)

// WriteManPages writes a man page (section 1) for keyleak and each of its
// commands into dir, from the same command tree the binary runs: the
// pages cannot drift from the flags.
func WriteManPages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	root := NewCmdRoot(NewFactory(&IOStreams{}))
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{Title: "KEYLEAK", Section: "1", Source: "keyleak " + version(), Manual: "keyleak manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}
