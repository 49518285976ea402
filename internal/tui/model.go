package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// state is what the root model shows.
type state int

const (
	// stateKeyEntry asks for the leaked key's ID.
	stateKeyEntry state = iota
	// stateOpening opens (or resumes) the case and connects to AWS.
	stateOpening
	// stateRunbook shows the steps beside the current step's screen.
	stateRunbook
)

// stepID is a step of the runbook as the step list shows it.
type stepID int

const (
	stepIdentify stepID = iota
	stepContain
	stepInvestigate
	stepAssess
	stepResources
	stepVerify
	stepReport
	stepRecover
	numSteps
)

func (s stepID) String() string {
	switch s {
	case stepIdentify:
		return "Identify"
	case stepContain:
		return "Contain"
	case stepInvestigate:
		return "Investigate"
	case stepAssess:
		return "Assess"
	case stepResources:
		return "Resources"
	case stepVerify:
		return "Verify"
	case stepReport:
		return "Report"
	case stepRecover:
		return "Recover"
	}
	return "?"
}

// stepState is where a step of the runbook stands.
type stepState int

const (
	statePending stepState = iota
	stateRunning
	stateDone
	stateSkipped
	stateFailed
)

func (s stepState) String() string {
	return [...]string{"pending", "running", "done", "skipped", "failed"}[s]
}

// screen is one step's view: a small component of its own.
type screen interface {
	// Update handles a message meant for the screen.
	Update(msg tea.Msg) tea.Cmd
	// View draws the screen in the size given by SetSize.
	View() string
	// SetSize gives the screen its area.
	SetSize(width, height int)
	// Keys are the screen's keys for the help line.
	Keys() helpKeys
	// Enter is called when the screen is shown; it may start work.
	Enter() tea.Cmd
	// Capturing reports whether the screen takes every key (text entry),
	// so that q and the step keys reach it instead of the root.
	Capturing() bool
}

// sidebarWidth is the step list's width; the screen gets the rest.
const sidebarWidth = 24

// sidebarMinWidth is the narrowest terminal that shows the step list; on a
// narrower one it collapses into the header ("step 3/9 Investigate"), so
// that an 80-column terminal gives the screen its whole width.
const sidebarMinWidth = 100

// sideW is the width the step list and its separator take now.
func (m *Model) sideW() int {
	if m.width < sidebarMinWidth {
		return 0
	}
	return sidebarWidth + 1
}

// Model is the runbook's root model.
type Model struct {
	s        *session
	state    state
	cur      stepID
	width    int
	height   int
	help     help.Model
	showHelp bool
	quitting bool
	// interrupted is set when the responder left with ctrl+c rather than
	// quitting: the program's exit code says so (130).
	interrupted bool
	// notice is a one-key hint shown in the status line, over the
	// attacker feed, until the next key.
	notice string
	status string
	err    error

	entry   *keyEntry
	screens [numSteps]screen
	attack  attackerLog
}

// New returns the runbook for cfg. life bounds the runbook's work: when it
// ends, background jobs stop sending.
func New(life context.Context, cfg Config) *Model {
	cfg.defaults()
	r := cfg.Renderer
	if r == nil {
		r = lipgloss.NewRenderer(os.Stderr)
	}
	work, cancel := context.WithCancel(life)
	s := &session{cfg: cfg, st: newStyles(r), km: newKeyMap(), life: life, work: work, cancel: cancel, jobs: map[string]bool{}}
	h := help.New()
	h.ShortSeparator = " · "
	h.Styles.ShortKey = s.st.bold
	h.Styles.ShortDesc = s.st.dim
	h.Styles.FullKey = s.st.bold
	h.Styles.FullDesc = s.st.dim
	h.Styles.ShortSeparator = s.st.dim
	h.Styles.FullSeparator = s.st.dim
	m := &Model{s: s, help: h, width: 80, height: 24, entry: newKeyEntry(s)}
	m.screens = [numSteps]screen{
		stepIdentify:    newIdentifyView(s),
		stepContain:     newContainView(s),
		stepInvestigate: newInvestigateView(s),
		stepAssess:      newEventsView(s),
		stepResources:   newResourcesView(s),
		stepVerify:      newVerifyView(s),
		stepReport:      newReportView(s),
		stepRecover:     newRecoverView(s),
	}
	m.entry.value = cfg.SuggestKey
	if cfg.Key != "" {
		m.entry.value = cfg.Key
	}
	if cfg.Key != "" || cfg.CaseDir != "" {
		m.state = stateOpening
	}
	m.resize()
	return m
}

// Init opens the case when the key or the case is known already.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.state == stateOpening {
		cmds = append(cmds, m.open(m.s.cfg.Key, m.s.cfg.CaseDir))
	}
	if m.s.cfg.Attacker != nil {
		cmds = append(cmds, m.attack.tick(m.s))
	}
	return tea.Batch(cmds...)
}

// Err returns the error that ended the runbook, if any.
func (m *Model) Err() error {
	if m.err == nil && m.interrupted {
		return context.Canceled
	}
	return m.err
}

// Update routes messages: global keys first, then the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.resize()
		return m, nil
	case jobMsg:
		_, cmd := m.Update(msg.msg)
		return m, tea.Batch(cmd, listen(msg.next))
	case jobDoneMsg:
		delete(m.s.jobs, msg.job)
		delete(m.s.stops, msg.job)
		if m.quitting && len(m.s.jobs) == 0 {
			return m, tea.Quit
		}
		return m, nil
	case attackerMsg:
		m.attack.add(msg.calls)
		return m, m.attack.tick(m.s)
	case caseOpenedMsg:
		return m, m.opened(msg)
	case recheckMsg:
		return m, m.rechecked(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	// Results of a step's work go to every screen: a screen ignores what is
	// not its own, and a result may arrive while another screen is shown.
	var cmds []tea.Cmd
	for _, sc := range m.screens {
		cmds = append(cmds, sc.Update(msg))
	}
	return m, tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	km := m.s.km
	m.notice = ""
	if m.quitting {
		// A second ctrl+c leaves at once, for work that will not stop.
		if key.Matches(msg, km.ForceQuit) {
			return tea.Quit
		}
		return nil
	}
	if key.Matches(msg, km.ForceQuit) {
		m.interrupted = true
		return m.quit()
	}
	switch m.state {
	case stateKeyEntry:
		if key.Matches(msg, km.Back) {
			return m.quit()
		}
		k, done := m.entry.Update(msg)
		if done {
			m.state = stateOpening
			return m.open(k, "")
		}
		return nil
	case stateOpening:
		if key.Matches(msg, km.Quit) {
			return m.quit()
		}
		return nil
	}
	sc := m.screens[m.cur]
	if sc.Capturing() {
		return sc.Update(msg)
	}
	switch {
	case key.Matches(msg, km.Help):
		m.showHelp = !m.showHelp
		return nil
	case m.showHelp && key.Matches(msg, km.Back):
		m.showHelp = false
		return nil
	case key.Matches(msg, km.Back):
		// Esc backs out: of the screen's own sub-view or pending loop
		// first, else to the previous step.
		if e, ok := sc.(escaper); ok {
			if handled, cmd := e.Esc(); handled {
				return cmd
			}
		}
		return m.goTo(m.cur - 1)
	case msg.String() == "y":
		if c, ok := sc.(confirmer2); ok && c.confirming() {
			m.notice = "y alone does not confirm: press shift+Y (capital Y) to make these calls, or n to decline"
			return nil
		}
	case key.Matches(msg, km.Quit):
		return m.quit()
	case key.Matches(msg, km.NextStep):
		return m.goTo(m.cur + 1)
	case key.Matches(msg, km.PrevStep):
		return m.goTo(m.cur - 1)
	}
	cmd := sc.Update(msg)
	if m.s.next {
		// At once, not through a message: a key typed right after must
		// reach the next screen, not move on a second time.
		m.s.next = false
		return tea.Batch(cmd, m.goTo(m.cur+1))
	}
	return cmd
}

// goTo shows step i, starting what it needs.
func (m *Model) goTo(i stepID) tea.Cmd {
	if i < 0 || i >= numSteps || m.state != stateRunbook {
		return nil
	}
	m.cur = i
	m.showHelp = false
	return m.screens[i].Enter()
}

// quit stops safely: running work is cancelled, and the program ends once
// it has saved what it had (the playbook journals every call; the sweep's
// events are written to the case).
func (m *Model) quit() tea.Cmd {
	if m.quitting {
		return nil
	}
	m.quitting = true
	m.s.cancel()
	if len(m.s.jobs) == 0 {
		return tea.Quit
	}
	m.status = "stopping: saving what was done so far… (ctrl+c again leaves at once)"
	return nil
}

// caseOpenedMsg is the case opened (or resumed) and AWS connected.
type caseOpenedMsg struct {
	c      *playbook.Case
	resume resumeState
	err    error
}

// open opens the key's case, or the case directory given, and connects.
func (m *Model) open(keyID, dir string) tea.Cmd {
	s := m.s
	cfg := s.cfg
	return s.start("open", func(ctx context.Context, send func(tea.Msg)) {
		// AWS first: a missing configuration leaves no case directory
		// behind, and the engine opens the case as the commands do.
		if _, err := cfg.Engine.Clients(ctx); err != nil {
			send(caseOpenedMsg{err: fmt.Errorf("connect to AWS: %w", err)})
			return
		}
		if dir != "" && keyID == "" {
			c, err := casefile.OpenExisting(dir)
			if err != nil {
				send(caseOpenedMsg{err: err})
				return
			}
			keyID = c.Meta().KeyID
			c.Close()
		}
		c, err := cfg.Engine.OpenCase(casefile.Ref{Dir: dir, Parent: cfg.Parent, Key: keyID})
		if err != nil {
			send(caseOpenedMsg{err: err})
			return
		}
		rs, err := loadResume(c)
		send(caseOpenedMsg{c: c, resume: rs, err: err})
	})
}

func (m *Model) opened(msg caseOpenedMsg) tea.Cmd {
	if msg.err != nil {
		var kerr *playbook.KeyIDError
		if errors.As(msg.err, &kerr) || m.s.cfg.CaseDir == "" {
			m.state = stateKeyEntry
			m.entry.err = msg.err.Error()
			return nil
		}
		m.err = msg.err
		m.status = msg.err.Error()
		return tea.Quit
	}
	s := m.s
	s.c, s.key = msg.c, msg.c.Meta().KeyID
	m.state = stateRunbook
	cur := msg.resume.apply(s)
	for _, sc := range m.screens {
		if r, ok := sc.(resumer); ok {
			r.resume(msg.resume)
		}
	}
	if msg.resume.fresh {
		m.status = "new case " + filepath.Base(s.c.Dir())
		return m.goTo(cur)
	}
	m.status = "resumed case " + filepath.Base(s.c.Dir()) + " at " + cur.String()
	if msg.resume.sum != nil && s.steps[stepContain] == stateDone {
		return tea.Batch(m.goTo(cur), m.recheck())
	}
	return m.goTo(cur)
}

// recheckMsg is the containment as AWS shows it when a case is resumed.
type recheckMsg struct {
	sum *playbook.Summary
	err error
}

// recheck reads the account when a contained case is resumed: the journal
// says the key was deactivated, but only AWS says whether it still is. It
// is a dry run of containment: read calls only, the plan journaled.
func (m *Model) recheck() tea.Cmd {
	c, eng := m.s.c, m.s.cfg.Engine
	return m.s.start("recheck", func(ctx context.Context, send func(tea.Msg)) {
		res, err := eng.Contain(ctx, c, respond.ContainRequest{DryRun: true, LookupRate: m.s.cfg.LookupRate}, respond.Hooks{})
		var sum *playbook.Summary
		if res != nil {
			sum = res.Summary
		}
		send(recheckMsg{sum: sum, err: err})
	})
}

// rechecked reopens containment when AWS shows the key active again or its
// sessions no longer revoked.
func (m *Model) rechecked(msg recheckMsg) tea.Cmd {
	s := m.s
	if msg.err != nil || msg.sum == nil {
		if msg.err != nil {
			m.status = "could not read the key's state from AWS: " + msg.err.Error()
		}
		return nil
	}
	sum := msg.sum
	var open []string
	if sum.KeyStatus != "Inactive" && sum.KeyStatus != "Deleted" {
		open = append(open, "the key is "+sum.KeyStatus+" again")
	}
	if !sum.RootKey && sum.RevokedBefore.IsZero() {
		open = append(open, "its sessions are no longer revoked")
	}
	if len(open) == 0 {
		return nil
	}
	s.steps[stepContain] = statePending
	m.status = "AWS shows that " + strings.Join(open, " and ") + ": contain it again"
	return m.goTo(stepContain)
}

// escaper is a screen with something Esc backs out of before the step
// does (a detail pane, a confirmation, a removal loop).
type escaper interface {
	Esc() (handled bool, cmd tea.Cmd)
}

// confirmer2 is a screen that may be waiting for a confirmation.
type confirmer2 interface{ confirming() bool }

// resumer is a screen that shows what an earlier session left in the case.
type resumer interface{ resume(resumeState) }

func (m *Model) resize() {
	w, h := m.width, m.height
	m.help.Width = w
	for _, sc := range m.screens {
		sc.SetSize(max(w-m.sideW(), 20), max(h-3, 3))
	}
}

// View draws header, step list, screen, status line and help line.
func (m *Model) View() string {
	w, h := m.width, m.height
	st := m.s.st
	title := m.s.cfg.Title
	switch {
	case m.s.c != nil:
		// The case directory's name holds the key and when it was opened.
		title += " — " + filepath.Base(m.s.c.Dir())
	case m.s.key != "":
		title += " — " + m.s.key
	}
	if m.state == stateRunbook && m.sideW() == 0 {
		// The step list is collapsed: the header says where we are.
		title = fmt.Sprintf("step %d/%d %s (%s) · ", int(m.cur)+1, int(numSteps), m.cur, m.s.steps[m.cur]) + title
	}
	header := st.header.Render(fit(title, w))
	bodyH := max(h-3, 3)
	var body string
	switch m.state {
	case stateKeyEntry:
		body = m.entry.View(w, bodyH)
	case stateOpening:
		body = block([]string{"", "  Opening the case and connecting to AWS…"}, w, bodyH)
	default:
		mainW := max(w-m.sideW(), 20)
		var main string
		if m.showHelp {
			main = m.fullHelp(mainW, bodyH)
		} else {
			main = m.screens[m.cur].View()
		}
		if m.sideW() == 0 {
			body = main
			break
		}
		sep := strings.TrimSuffix(strings.Repeat("│\n", bodyH), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.sidebar(bodyH), st.dim.Render(sep), main)
	}
	status := m.statusLine(w)
	helpLine := st.footer.Render(fit(m.help.ShortHelpView(m.keys().short), w))
	return header + "\n" + body + "\n" + status + "\n" + helpLine
}

// keys are the keys the help line shows now.
func (m *Model) keys() helpKeys {
	km := m.s.km
	switch m.state {
	case stateKeyEntry:
		return helpKeys{short: []key.Binding{km.Enter, km.ForceQuit}}
	case stateOpening:
		return helpKeys{short: []key.Binding{km.Quit}}
	}
	k := m.screens[m.cur].Keys()
	if m.screens[m.cur].Capturing() {
		return k
	}
	// Help and quit come first so that a narrow terminal never cuts them.
	k.short = append([]key.Binding{km.Help, km.Quit}, append(k.short, km.NextStep)...)
	return k
}

func (m *Model) fullHelp(w, h int) string {
	km := m.s.km
	k := m.screens[m.cur].Keys()
	groups := append([][]key.Binding{}, k.full...)
	groups = append(groups, []key.Binding{km.NextStep, km.PrevStep, km.Help, km.Quit, km.ForceQuit})
	lines := []string{m.s.st.title.Render("Keys"), ""}
	for _, g := range groups {
		for _, b := range g {
			hk := b.Help()
			lines = append(lines, fmt.Sprintf("  %-12s %s", hk.Key, hk.Desc))
		}
		lines = append(lines, "")
	}
	lines = append(lines, m.s.st.dim.Render("Quitting is safe: every AWS action is journaled in the case,"),
		m.s.st.dim.Render("and `keyleak --case DIR` resumes where you stopped."), m.s.st.dim.Render("esc or ? closes this help."))
	return block(lines, w, h)
}

func (m *Model) sidebar(h int) string {
	st := m.s.st
	lines := []string{st.title.Render("Runbook"), ""}
	for i := range numSteps {
		ss := m.s.steps[i]
		marker := "  "
		name := fmt.Sprintf("%-15s", i.String())
		if i == m.cur {
			marker = "› "
			name = st.current.Render(name)
		}
		word := ss.String()
		switch ss {
		case stateDone:
			word = st.ok.Render(word)
		case stateRunning:
			word = st.warn.Render(word)
		case stateFailed:
			word = st.bad.Render(word)
		default:
			word = st.dim.Render(word)
		}
		lines = append(lines, marker+name+word)
	}
	return block(lines, sidebarWidth, h)
}

func (m *Model) statusLine(w int) string {
	st := m.s.st
	if m.notice != "" {
		return st.warn.Render(fit(m.notice, w))
	}
	if m.s.cfg.Attacker != nil && m.state == stateRunbook {
		line := m.attack.line()
		if m.status != "" && m.quitting {
			line = m.status
		}
		return st.attacker.Render(fit(line, w))
	}
	return st.dim.Render(fit(m.status, w))
}
