package cli

import (
	"encoding/json"
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
			if g.output == outputJSON {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return fmt.Errorf("write result: %w", err)
				}
			} else if _, err := fmt.Fprintln(f.IO.Out, res.String()); err != nil {
				return fmt.Errorf("write result: %w", err)
			}
			if !res.OK {
				return fmt.Errorf("journal %s does not verify: %s", path, res.Problem)
			}
			return nil
		},
	}
}
