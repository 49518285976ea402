package cli

import (
	"fmt"

	"github.com/spf13/cobra"

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
		Short: "Check a case journal's hash chain and say where it breaks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0] + "/" + playbook.JournalFile
			res, err := playbook.Verify(path)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("read journal: %w", err)}
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
