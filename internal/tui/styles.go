package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// styles are the runbook's looks, made from one renderer so that colours
// follow the terminal's profile (and vanish with the ASCII profile of the
// goldens). Nothing depends on colour alone: the cursor row has a marker,
// states are words.
type styles struct {
	header   lipgloss.Style
	footer   lipgloss.Style
	title    lipgloss.Style
	dim      lipgloss.Style
	bold     lipgloss.Style
	ok       lipgloss.Style
	warn     lipgloss.Style
	bad      lipgloss.Style
	loud     lipgloss.Style
	cursor   lipgloss.Style
	label    lipgloss.Style
	current  lipgloss.Style
	sidebar  lipgloss.Style
	attacker lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#A58BFF"}
	green := lipgloss.AdaptiveColor{Light: "#1B7F3B", Dark: "#5FD787"}
	yellow := lipgloss.AdaptiveColor{Light: "#8A6D00", Dark: "#FFD75F"}
	red := lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF5F5F"}
	grey := lipgloss.AdaptiveColor{Light: "#6C6C6C", Dark: "#8A8A8A"}
	return styles{
		header:   r.NewStyle().Bold(true).Foreground(accent),
		footer:   r.NewStyle().Foreground(grey),
		title:    r.NewStyle().Bold(true).Foreground(accent),
		dim:      r.NewStyle().Foreground(grey),
		bold:     r.NewStyle().Bold(true),
		ok:       r.NewStyle().Foreground(green),
		warn:     r.NewStyle().Foreground(yellow),
		bad:      r.NewStyle().Foreground(red).Bold(true),
		loud:     r.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#B00020")),
		cursor:   r.NewStyle().Reverse(true),
		label:    r.NewStyle().Foreground(grey),
		current:  r.NewStyle().Bold(true).Foreground(accent),
		sidebar:  r.NewStyle(),
		attacker: r.NewStyle().Foreground(red),
	}
}

// fit cuts s to width display cells (marking the cut) and pads it with
// spaces to exactly width, so that panes line up and never wrap.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > width {
		s = ansi.Truncate(s, width, "…")
	}
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// cut cuts s to width display cells without padding.
func cut(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > width {
		return ansi.Truncate(s, width, "…")
	}
	return s
}

// block makes lines exactly width by height: cut, padded, and filled with
// blank lines or trimmed.
func block(lines []string, width, height int) string {
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = fit(lines[i], width)
		} else {
			out[i] = strings.Repeat(" ", max(width, 0))
		}
	}
	return strings.Join(out, "\n")
}

// wrapText folds text into lines of at most width cells, on spaces.
func wrapText(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		var b strings.Builder
		n := 0
		for _, w := range strings.Fields(para) {
			// A word longer than a line (a policy document, an ARN) is
			// broken: cutting it would hide what the responder must read.
			for ansi.StringWidth(w) > width {
				if n > 0 {
					lines = append(lines, b.String())
					b.Reset()
					n = 0
				}
				lines = append(lines, ansi.Truncate(w, width, ""))
				w = ansi.TruncateLeft(w, width, "")
			}
			wl := ansi.StringWidth(w)
			if n > 0 && n+1+wl > width {
				lines = append(lines, b.String())
				b.Reset()
				n = 0
			}
			if n > 0 {
				b.WriteByte(' ')
				n++
			}
			b.WriteString(w)
			n += wl
		}
		lines = append(lines, b.String())
	}
	return lines
}
