package awssim

import (
	"fmt"
	"slices"
	"time"
)

// supportOps returns the handlers of the simulated AWS Support API (JSON
// 1.1, X-Amz-Target AWSSupport_20130415.*), the part keyleak uses to reply
// to the case AWS opens about an exposed key.
func supportOps() map[string]handler {
	return map[string]handler{
		"AddAttachmentsToSet":    supportAddAttachmentsToSet,
		"AddCommunicationToCase": supportAddCommunicationToCase,
	}
}

// Support plans. The Support API answers only Business and Enterprise
// (and Enterprise On-Ramp) accounts.
const (
	SupportBasic            = "basic"
	SupportDeveloper        = "developer"
	SupportBusiness         = "business"
	SupportEnterpriseOnRamp = "enterprise-on-ramp"
	SupportEnterprise       = "enterprise"
)

// Limits of the Support API, as AWS documents them.
const (
	supportMaxAttachment  = 5 << 20 // bytes per attachment
	supportMaxAttachments = 3       // attachments per set
	supportMaxBody        = 8000    // characters of a communication
	supportSetLifetime    = time.Hour
)

// SupportCase is a support case of the simulated account, with what was
// posted to it.
type SupportCase struct {
	ID             string                 `json:"caseId"`
	DisplayID      string                 `json:"displayId"`
	Subject        string                 `json:"subject"`
	Communications []SupportCommunication `json:"communications"`
}

// SupportCommunication is one reply posted to a case.
type SupportCommunication struct {
	Body        string              `json:"body"`
	SubmittedBy string              `json:"submittedBy"`
	Time        time.Time           `json:"time"`
	Attachments []SupportAttachment `json:"attachments,omitempty"`
}

// SupportAttachment is a file posted with a communication.
type SupportAttachment struct {
	FileName string `json:"fileName"`
	Data     []byte `json:"data"`
}

type supportState struct {
	plan  string
	cases map[string]*SupportCase
	sets  map[string]*attachmentSet
}

type attachmentSet struct {
	expires     time.Time
	attachments []SupportAttachment
}

// WithSupportPlan sets the account's support plan (default business, so
// that the Support API answers; basic or developer make it refuse).
func WithSupportPlan(plan string) Option {
	return func(s *Sim) { s.supportOf().plan = plan }
}

// supportOf returns the support state, making it (with the case AWS
// opens about an exposed key) on first use. Called with mu held or before
// the simulator serves.
func (s *Sim) supportOf() *supportState {
	if s.supportState == nil {
		s.supportState = &supportState{plan: SupportBusiness, cases: map[string]*SupportCase{}, sets: map[string]*attachmentSet{}}
		display := fmt.Sprintf("1%010d", s.rng.UintN(1e10))
		id := "case-" + s.home.ID + "-" + s.now().UTC().Format("2006") + "-" + s.newHex(16)
		s.supportState.cases[id] = &SupportCase{ID: id, DisplayID: display,
			Subject: "Your AWS Access Key is Exposed for AWS Account " + s.home.ID}
	}
	return s.supportState
}

// SupportCaseID returns the ID of the case AWS opened about the exposed
// key, as `aws support describe-cases` shows it.
func (s *Sim) SupportCaseID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.supportOf().cases {
		return id
	}
	return ""
}

// SupportCase returns a copy of a support case and what was posted to it.
func (s *Sim) SupportCase(id string) (SupportCase, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.supportOf().cases[id]
	if !ok {
		return SupportCase{}, false
	}
	out := *c
	out.Communications = slices.Clone(c.Communications)
	return out, true
}

// errSupportPlan is the Support API's answer to an account without a
// Business or Enterprise plan.
func errSupportPlan() *APIError {
	return errf(400, "SubscriptionRequiredException", "AWS Premium Support Subscription is required to use this service.")
}

func (s *Sim) supportEntitled() *APIError {
	switch s.supportOf().plan {
	case SupportBusiness, SupportEnterpriseOnRamp, SupportEnterprise:
		return nil
	}
	return errSupportPlan()
}

// supportAddAttachmentsToSet keeps files in an attachment set (new, or one
// given) for an hour, for a communication to take.
func supportAddAttachmentsToSet(s *Sim, c *Call) (*Result, error) {
	var in struct {
		AttachmentSetID string `json:"attachmentSetId"`
		Attachments     []struct {
			FileName string `json:"fileName"`
			Data     []byte `json:"data"`
		} `json:"attachments"`
	}
	res := &Result{}
	if err := c.jsonBody(&in); err != nil {
		return res, err
	}
	names := []any{}
	for _, a := range in.Attachments {
		names = append(names, map[string]any{"fileName": a.FileName})
	}
	res.Request = map[string]any{"attachmentSetId": nilIfEmpty(in.AttachmentSetID), "attachments": names}
	if err := s.supportEntitled(); err != nil {
		return res, err
	}
	if len(in.Attachments) == 0 {
		return res, errf(400, "ValidationException", "1 validation error detected: Value null at 'attachments' failed to satisfy constraint: Member must not be null")
	}
	st := s.supportOf()
	now := s.now().UTC()
	set := &attachmentSet{expires: now.Add(supportSetLifetime)}
	id := in.AttachmentSetID
	if id != "" {
		prev, ok := st.sets[id]
		switch {
		case !ok:
			return res, errf(400, "AttachmentSetIdNotFound", "An attachment set with the specified ID could not be found.")
		case now.After(prev.expires):
			return res, errf(400, "AttachmentSetExpired", "The expiration time of the attachment set has passed.")
		}
		set = prev
	} else {
		id = "as-" + s.newHex(32)
	}
	for _, a := range in.Attachments {
		if len(a.Data) > supportMaxAttachment {
			return res, errf(400, "AttachmentSetSizeLimitExceeded", "A limit for the size of an attachment set has been exceeded: attachments may be at most 5 MB.")
		}
		set.attachments = append(set.attachments, SupportAttachment{FileName: a.FileName, Data: a.Data})
	}
	if len(set.attachments) > supportMaxAttachments {
		return res, errf(400, "AttachmentLimitExceeded", "The limit for the number of attachment sets created in a short period of time has been exceeded: a set holds at most 3 attachments.")
	}
	st.sets[id] = set
	res.JSON = map[string]any{"attachmentSetId": id, "expiryTime": set.expires.Format(time.RFC3339)}
	res.Response = map[string]any{"attachmentSetId": id, "expiryTime": set.expires.Format(time.RFC3339)}
	return res, nil
}

// supportAddCommunicationToCase posts a reply to a case, with the files of
// an attachment set.
func supportAddCommunicationToCase(s *Sim, c *Call) (*Result, error) {
	var in struct {
		CaseID            string   `json:"caseId"`
		CommunicationBody string   `json:"communicationBody"`
		CcEmailAddresses  []string `json:"ccEmailAddresses"`
		AttachmentSetID   string   `json:"attachmentSetId"`
	}
	res := &Result{}
	if err := c.jsonBody(&in); err != nil {
		return res, err
	}
	// CloudTrail keeps which case and set, not the text posted.
	res.Request = map[string]any{"caseId": nilIfEmpty(in.CaseID), "attachmentSetId": nilIfEmpty(in.AttachmentSetID)}
	if err := s.supportEntitled(); err != nil {
		return res, err
	}
	n := len([]rune(in.CommunicationBody))
	if n == 0 || n > supportMaxBody {
		return res, errf(400, "ValidationException", "1 validation error detected: Value at 'communicationBody' failed to satisfy constraint: Member must have length between 1 and %d", supportMaxBody)
	}
	st := s.supportOf()
	sc, ok := st.cases[in.CaseID]
	if !ok {
		return res, errf(400, "CaseIdNotFound", "Case ID: %s was not found.", in.CaseID)
	}
	com := SupportCommunication{Body: in.CommunicationBody, Time: s.now().UTC()}
	if id, _, _ := s.userIdentity(c); id != nil {
		com.SubmittedBy, _ = id["arn"].(string)
	}
	if in.AttachmentSetID != "" {
		set, ok := st.sets[in.AttachmentSetID]
		switch {
		case !ok:
			return res, errf(400, "AttachmentSetIdNotFound", "An attachment set with the specified ID could not be found.")
		case com.Time.After(set.expires):
			return res, errf(400, "AttachmentSetExpired", "The expiration time of the attachment set has passed.")
		}
		com.Attachments = set.attachments
		delete(st.sets, in.AttachmentSetID)
	}
	sc.Communications = append(sc.Communications, com)
	res.JSON = map[string]any{"result": true}
	res.Response = map[string]any{"result": true}
	return res, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
