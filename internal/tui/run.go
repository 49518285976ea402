package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Run shows the runbook on the terminal of in and out (stderr, so that
// stdout stays clean) in the alternate screen, until the responder quits.
// Colours follow out's terminal: fewer colours, or none, on limited ones.
// It returns the case directory the runbook worked on ("" if none was
// opened), so that the front end can say how to resume.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer) (string, error) {
	if cfg.Renderer == nil {
		cfg.Renderer = lipgloss.NewRenderer(out)
	}
	life, stop := context.WithCancel(ctx)
	defer stop()
	m := New(life, cfg)
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithContext(ctx))
	final, err := p.Run()
	dir := ""
	if fm, ok := final.(*Model); ok && fm.s.c != nil {
		dir = fm.s.c.Dir()
		defer fm.s.c.Close()
	}
	switch {
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return dir, ctx.Err()
	case err != nil:
		return dir, fmt.Errorf("run terminal UI: %w", err)
	}
	if fm, ok := final.(*Model); ok {
		return dir, fm.Err()
	}
	return dir, nil
}

// CaseDir returns the case the runbook worked on, "" before one was opened.
func (m *Model) CaseDir() string {
	if m.s.c == nil {
		return ""
	}
	return m.s.c.Dir()
}

// Close closes the case the runbook opened, if any.
func (m *Model) Close() error {
	m.s.cancel()
	if m.s.c == nil {
		return nil
	}
	return m.s.c.Close()
}
