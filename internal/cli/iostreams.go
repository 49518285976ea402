package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's input and outputs. Data goes to Out; progress,
// prompts and the TUI go to ErrOut so that `-o json > file` stays clean.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StdinTTY and StderrTTY say whether a person is at the terminal: without
	// one, commands that would ask for confirmation refuse instead of hanging.
	StdinTTY  bool
	StdoutTTY bool
	StderrTTY bool
}

// systemStreams are the process's standard streams.
func systemStreams() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}
