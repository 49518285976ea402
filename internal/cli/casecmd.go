package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
)

func newCmdCase(f *Factory, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "case",
		Short: "Work with case directories",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdCaseVerify(f, g))
	return cmd
}

func newCmdCaseVerify(f *Factory, g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify DIR",
		Short: "Check a case journal's hash chain and anchors, and say where it breaks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := filepath.Join(args[0], playbook.JournalFile)
			// Read only: opening the case would create a missing journal.
			if _, err := os.Stat(filepath.Join(args[0], playbook.CaseFile)); err != nil {
				return usageErrorf("%s is not a keyleak case directory (no %s)", args[0], playbook.CaseFile)
			}
			res, err := casefile.Verify(args[0])
			if err != nil {
				return &UsageError{Err: err}
			}
			if err := printResult(f.IO.Out, g.output, res, func() string { return res.String() + "\n" }); err != nil {
				return err
			}
			if !res.OK {
				return fmt.Errorf("journal %s does not verify: %s", path, res.Problem)
			}
			return nil
		},
	}
}
