package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the runbook answers to. Screens show the ones they
// use in the help line; `?` shows them all.
type keyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	NextStep key.Binding
	PrevStep key.Binding
	Enter    key.Binding
	// Confirm is deliberately a shifted key: a stray y or enter never
	// changes the account.
	Confirm   key.Binding
	Decline   key.Binding
	Toggle    key.Binding
	Back      key.Binding
	Verdict   key.Binding
	Severity  key.Binding
	Category  key.Binding
	Region    key.Binding
	KeyID     key.Binding
	Search    key.Binding
	Clear     key.Binding
	Longer    key.Binding
	Shorter   key.Binding
	Refresh   key.Binding
	Eradicate key.Binding
	// RevokeRoles revokes the older sessions of the roles the key's
	// credentials assumed.
	RevokeRoles key.Binding
	Help        key.Binding
	Quit        key.Binding
	ForceQuit   key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		NextStep:    key.NewBinding(key.WithKeys("tab", "right", "l"), key.WithHelp("tab/→/l", "next step")),
		PrevStep:    key.NewBinding(key.WithKeys("shift+tab", "left", "h"), key.WithHelp("⇧tab/←/h", "previous step")),
		Enter:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go")),
		Confirm:     key.NewBinding(key.WithKeys("Y"), key.WithHelp("Y", "confirm (shift+y)")),
		Decline:     key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "decline")),
		Toggle:      key.NewBinding(key.WithKeys(" ", "x"), key.WithHelp("space", "select")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Verdict:     key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verdict")),
		Severity:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "severity")),
		Category:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "category")),
		Region:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "region")),
		KeyID:       key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "key")),
		Search:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Clear:       key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "clear filters")),
		Longer:      key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+/-", "watch longer/shorter")),
		Shorter:     key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "watch shorter")),
		Refresh:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refresh")),
		Eradicate:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "remove selected")),
		RevokeRoles: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "revoke role sessions")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// helpKeys is a screen's keys for the help view: the short line, and the
// full help in columns.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (h helpKeys) ShortHelp() []key.Binding { return h.short }

// FullHelp implements help.KeyMap.
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }
