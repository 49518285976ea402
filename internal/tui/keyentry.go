package tui

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/playbook"
)

// keyEntry asks for the leaked key's ID and checks it as it is typed. A
// pasted secret access key is recognised, refused and forgotten at once:
// it is never drawn.
type keyEntry struct {
	s     *session
	value string
	// err is the last refusal or failure to open the case.
	err string
	// secret is set when a secret access key was pasted and dropped.
	secret bool
}

func newKeyEntry(s *session) *keyEntry { return &keyEntry{s: s} }

// Update edits the value; it returns the key and true when the responder
// submits a valid ID.
func (e *keyEntry) Update(msg tea.KeyMsg) (string, bool) {
	switch {
	case key.Matches(msg, e.s.km.Enter):
		v := strings.TrimSpace(e.value)
		if err := playbook.ValidateKeyID(v); err != nil {
			e.err = err.Error()
			return "", false
		}
		e.value, e.err = v, ""
		return v, true
	case msg.Type == tea.KeyBackspace:
		if r := []rune(e.value); len(r) > 0 {
			e.value = string(r[:len(r)-1])
		}
	case msg.Type == tea.KeyCtrlU:
		e.value = ""
	case msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace:
		for _, r := range msg.Runes {
			if unicode.IsPrint(r) {
				e.value += string(r)
			}
		}
		if msg.Type == tea.KeySpace {
			e.value += " "
		}
	default:
		return "", false
	}
	e.err = ""
	e.secret = false
	if isSecretRefusal(playbook.ValidateKeyID(strings.TrimSpace(e.value))) {
		// The secret must not stay on screen, in memory of the model, or
		// anywhere else.
		e.value, e.secret = "", true
	}
	return "", false
}

// isSecretRefusal tells whether ValidateKeyID refused the input because
// it holds a secret access key; its reason says so and never repeats it.
func isSecretRefusal(err error) bool {
	return err != nil && strings.Contains(err.Error(), "secret access key")
}

// View draws the entry in width × height.
func (e *keyEntry) View(width, height int) string {
	st := e.s.st
	lines := []string{
		"",
		st.title.Render("  Which access key leaked?"),
		"",
		"  Access key ID: " + st.bold.Render(e.value) + "█",
		"",
	}
	v := strings.TrimSpace(e.value)
	switch {
	case e.secret:
		for _, l := range wrapText("That was a secret access key: it was refused and not kept. Treat it as exposed, and enter the access key ID (AKIA…, 20 characters) instead.", width-6) {
			lines = append(lines, "  "+st.bad.Render(l))
		}
	case e.err != "":
		for _, l := range wrapText(e.err, width-6) {
			lines = append(lines, "  "+st.bad.Render(l))
		}
	case v == "":
		lines = append(lines, st.dim.Render("  Type or paste the ID: AKIA… (or ASIA…), 20 characters."))
	default:
		if err := playbook.ValidateKeyID(v); err != nil {
			for _, l := range wrapText(strings.TrimPrefix(err.Error(), "invalid access key ID: "), width-6) {
				lines = append(lines, "  "+st.warn.Render(l))
			}
		} else {
			lines = append(lines, "  "+st.ok.Render("✓ a valid access key ID: enter opens its case"))
		}
	}
	lines = append(lines, "")
	for _, l := range wrapText("Never paste the secret access key here or anywhere else. keyleak opens (or resumes) the key's case in "+e.s.cfg.Parent+" and journals every AWS call it makes.", width-4) {
		lines = append(lines, "  "+st.dim.Render(l))
	}
	return block(lines, width, height)
}
