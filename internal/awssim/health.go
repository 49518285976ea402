package awssim

import (
	"encoding/json"
	"fmt"
	"time"
)

// DetectionSpec is when and how AWS finds the scenario's leaked key in
// public: the AWS Health event it raises then (service RISK), the key in
// detail.affectedEntities[].entityValue and the place it was found in the
// description, as AWS writes it.
type DetectionSpec struct {
	At Offset `yaml:"at"`
	// Type is the event type code (default AWS_RISK_CREDENTIALS_EXPOSED).
	Type string `yaml:"type"`
	// ExposedURL is where the key was found.
	ExposedURL string `yaml:"exposedUrl"`
}

// healthTypes are the event types a detection may raise.
var healthTypes = map[string]bool{
	"AWS_RISK_CREDENTIALS_EXPOSED":              true,
	"AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED":   true,
	"AWS_RISK_CREDENTIALS_COMPROMISED":          true,
	"AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED": true,
	"AWS_RISK_IAM_QUARANTINE":                   true,
}

func (d *DetectionSpec) check() error {
	if d.Type != "" && !healthTypes[d.Type] {
		return fmt.Errorf("detection: type %q is not an AWS Health RISK event type about credentials", d.Type)
	}
	return nil
}

// HealthEvent returns the AWS Health event of the scenario's detection, as
// EventBridge delivers it to a rule on aws.health; false when the scenario
// declares no detection or has no leaked key.
func (s *Sim) HealthEvent() ([]byte, bool) {
	run := runOf(s)
	if run == nil || run.sc.Detection == nil {
		return nil, false
	}
	d := run.sc.Detection
	key := s.LeakedKey()
	cred, ok := s.Key(key)
	if key == "" || !ok {
		return nil, false
	}
	typ := d.Type
	if typ == "" {
		typ = "AWS_RISK_CREDENTIALS_EXPOSED"
	}
	at := run.start.Add(d.At.D()).UTC()
	s.mu.Lock()
	id, suffix := s.newUUID(), s.newHex(16)
	s.mu.Unlock()
	desc := fmt.Sprintf("We have become aware that the AWS Access Key %s, belonging to IAM User %s, along with the corresponding Secret Key is publicly available online", key, cred.UserName)
	if d.ExposedURL != "" {
		desc += " at " + d.ExposedURL
	}
	desc += ". Your account security is important to us, and this exposure of your account's IAM credentials poses a security risk to your AWS account."
	acct := s.AccountID()
	event := map[string]any{
		"version":     "0",
		"id":          id,
		"detail-type": "AWS Health Event",
		"source":      "aws.health",
		"account":     acct,
		"time":        at.Format(time.RFC3339),
		"region":      "us-east-1",
		"resources":   []string{},
		"detail": map[string]any{
			"eventArn":          "arn:aws:health:global::event/RISK/" + typ + "/" + typ + "_" + suffix,
			"service":           "RISK",
			"eventTypeCode":     typ,
			"eventTypeCategory": "issue",
			"eventScopeCode":    "ACCOUNT_SPECIFIC",
			"startTime":         at.Format(time.RFC1123),
			"lastUpdatedTime":   at.Format(time.RFC1123),
			"statusCode":        "open",
			"eventRegion":       "global",
			"affectedAccount":   acct,
			"eventDescription":  []map[string]string{{"language": "en_US", "latestDescription": desc}},
			"affectedEntities":  []map[string]string{{"entityValue": key}},
		},
	}
	b, err := json.MarshalIndent(event, "", "  ")
	if err != nil {
		return nil, false
	}
	return b, true
}

// OnDetected calls emit with the scenario's Health event when its
// detection time comes: at once when that is in the past (the usual case:
// the timeline before "now" is history), else at that time, unless the
// simulator is closed first. It reports whether the scenario declares a
// detection.
func (s *Sim) OnDetected(emit func(event []byte)) bool {
	ev, ok := s.HealthEvent()
	if !ok {
		return false
	}
	run := runOf(s)
	wait := run.start.Add(run.sc.Detection.At.D()).Sub(s.now())
	if wait <= 0 {
		go emit(ev)
		return true
	}
	go func() {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-s.stopped:
		case <-t.C:
			emit(ev)
		}
	}()
	return true
}
