package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNotBuilt is what a command that exists in the design but not yet in the
// code says. It exits 1 and prints nothing on stdout: no fake output.
var errNotBuilt = errors.New("this command is not built yet; see the project's open issues")

func notBuilt(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short + " (not built yet)",
		Args:  cobra.ArbitraryArgs,
		RunE:  func(*cobra.Command, []string) error { return errNotBuilt },
	}
}

func newCmdDemo(_ *Factory, _ *globalFlags) *cobra.Command {
	return notBuilt("demo", "Run the runbook against a built-in simulated AWS account")
}
