package tui

import (
	"os"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// resumeState is what an earlier session left in the case: the runbook
// starts where it stopped.
type resumeState struct {
	fresh bool
	sum   *playbook.Summary
	// inv is the investigation kept in the case: the coverage and key chain
	// of the last sweep with every event fetched by any sweep.
	inv         *trail.Investigation
	invComplete bool
	findings    bool
	reports     []string
}

// reportFormats are the reports the Report step writes, in its order.
func reportFormats() []string { return []string{"xlsx", "md", "json"} }

// loadResume reads the case's summary, investigation and reports.
func loadResume(c *playbook.Case) (resumeState, error) {
	var rs resumeState
	sum, err := casefile.LoadContain(c)
	if err != nil {
		return rs, err
	}
	rs.sum = sum
	inv, err := casefile.LoadInvestigation(c)
	if err != nil {
		return rs, err
	}
	if inv != nil {
		rs.inv = inv
		rs.invComplete = !inv.Coverage.Failed()
	}
	rs.findings = casefile.HasFile(c, casefile.FindingsFile)
	for _, f := range reportFormats() {
		if p := c.Path("report." + f); fileExists(p) {
			rs.reports = append(rs.reports, p)
		}
	}
	rs.fresh = rs.sum == nil && rs.inv == nil
	return rs, nil
}

// apply puts what the case holds into the session and returns the step to
// show: the first of identify, contain and investigate not done, else
// Assess until the report is written, else Recover.
func (rs resumeState) apply(s *session) stepID {
	s.sum, s.inv = rs.sum, rs.inv
	if rs.sum != nil {
		s.steps[stepIdentify] = summaryState(rs.sum, playbook.StepIdentify)
		s.steps[stepContain] = containState(rs.sum)
	}
	if rs.inv != nil {
		s.steps[stepInvestigate] = stateFailed
		if rs.invComplete {
			s.steps[stepInvestigate] = stateDone
		}
	}
	if rs.findings {
		s.steps[stepAssess] = stateDone
	}
	if len(rs.reports) == len(reportFormats()) {
		s.steps[stepReport] = stateDone
	}
	for _, id := range []stepID{stepIdentify, stepContain, stepInvestigate} {
		if s.steps[id] != stateDone {
			return id
		}
	}
	if s.steps[stepReport] != stateDone {
		return stepAssess
	}
	return stepRecover
}

// summaryState is the state of one playbook step in a summary; pending
// when the summary does not have it.
func summaryState(sum *playbook.Summary, id string) stepState {
	for _, s := range sum.Steps {
		if s.ID != id {
			continue
		}
		switch s.Status {
		case playbook.StatusDone, playbook.StatusAlreadyDone, playbook.StatusReconciled, playbook.StatusNothingToDo:
			return stateDone
		case playbook.StatusFailed:
			return stateFailed
		case playbook.StatusDeclined, playbook.StatusSkipped:
			return stateSkipped
		case playbook.StatusRunning, playbook.StatusPlanned:
			return statePending
		}
	}
	return statePending
}

// containState is the state of Contain+revoke: done when the key is
// deactivated and its sessions revoked.
func containState(sum *playbook.Summary) stepState {
	c, r := summaryState(sum, playbook.StepContain), summaryState(sum, playbook.StepRevokeSessions)
	switch {
	case c == stateFailed || r == stateFailed:
		return stateFailed
	case c == stateDone && r == stateDone:
		return stateDone
	case c == stateSkipped || r == stateSkipped:
		return stateSkipped
	}
	return statePending
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
