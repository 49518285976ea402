package awssim

import (
	"net/http"
)

// The account's defences and an attacker's ways around them: CloudTrail
// trails (stopped, deleted), GuardDuty detectors (disabled, deleted) and
// the account's organization (left). Each evasion is kept as an object of
// its change's type, made by the caller, and undone (State "restored")
// when someone puts the defence back.

const (
	typeTrail            = "AWS::CloudTrail::Trail"
	typeTrailStopped     = "AWS::CloudTrail::TrailStopped"
	typeTrailDeleted     = "AWS::CloudTrail::TrailDeleted"
	typeDetectorDisabled = "AWS::GuardDuty::DetectorDisabled"
	typeDetectorDeleted  = "AWS::GuardDuty::DetectorDeleted"
	typeLeftOrganization = "AWS::Organizations::LeftOrganization"
)

// ---- CloudTrail trails ----

func trailOps() map[string]handler {
	return map[string]handler{
		"CreateTrail":    ctCreateTrail,
		"GetTrail":       ctGetTrail,
		"GetTrailStatus": ctGetTrailStatus,
		"StartLogging":   ctStartLogging,
		"StopLogging":    ctStopLogging,
		"DeleteTrail":    ctDeleteTrail,
	}
}

func errTrailNotFound(s *Sim, c *Call, name string) *APIError {
	return errJSON("TrailNotFoundException", "Unknown trail: %s for the user: %s", s.trailARN(c.Region, lastPart(name)), s.acct.ID)
}

func (s *Sim) trailARN(region, name string) string { return s.arn("cloudtrail", region, "trail/"+name) }

// trail resolves a trail by name or ARN in the call's region.
func (s *Sim) trail(c *Call, ref string) (*object, *APIError) {
	if o := s.obj(c.Region, typeTrail, lastPart(ref)); o != nil {
		return o, nil
	}
	return nil, errTrailNotFound(s, c, ref)
}

// undo marks every live change of a type whose Attrs[key] is val undone.
func (s *Sim) undo(region, typ, key, val, state string) {
	for _, o := range s.live(region, typ) {
		if str(o.Attrs, key) == val {
			o.drop(state)
		}
	}
}

func trailJSON(s *Sim, region string, o *object) map[string]any {
	return map[string]any{"Name": o.ID, "TrailARN": o.ARN, "S3BucketName": o.Attrs["bucket"], "HomeRegion": region,
		"IsMultiRegionTrail": o.Attrs["multi"], "IncludeGlobalServiceEvents": true, "LogFileValidationEnabled": false,
		"IsOrganizationTrail": false, "HasCustomEventSelectors": false, "HasInsightSelectors": false}
}

func ctCreateTrail(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name, bucket := str(in, "Name"), str(in, "S3BucketName")
	if name == "" || bucket == "" {
		return nil, errJSON("InvalidParameterException", "Name and S3BucketName are required")
	}
	if s.obj(c.Region, typeTrail, name) != nil {
		return nil, errJSON("TrailAlreadyExistsException", "Trail %s already exists for customer: %s", name, s.acct.ID)
	}
	// The simulator has no S3: the bucket is taken as given.
	o := s.put(c, typeTrail, name)
	o.ARN = s.trailARN(c.Region, name)
	multi, _ := in["IsMultiRegionTrail"].(bool)
	o.Attrs = map[string]any{"bucket": bucket, "multi": multi, "logging": false}
	s.undo(c.Region, typeTrailDeleted, "trail", name, "restored")
	out := trailJSON(s, c.Region, o)
	delete(out, "HomeRegion")
	return &Result{JSON: out, Request: lowerFirst(in), Response: lowerFirst(out), Resources: made(o)}, nil
}

func ctGetTrail(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := s.trail(c, str(in, "Name"))
	if apiErr != nil {
		return nil, apiErr
	}
	return &Result{JSON: map[string]any{"Trail": trailJSON(s, c.Region, o)}, Request: map[string]any{"name": str(in, "Name")}}, nil
}

func ctGetTrailStatus(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := s.trail(c, str(in, "Name"))
	if apiErr != nil {
		return nil, apiErr
	}
	out := map[string]any{"IsLogging": o.Attrs["logging"]}
	if t, ok := o.Attrs["started"].(float64); ok {
		out["StartLoggingTime"] = t
	}
	if t, ok := o.Attrs["stopped"].(float64); ok {
		out["StopLoggingTime"] = t
	}
	return &Result{JSON: out, Request: map[string]any{"name": str(in, "Name")}}, nil
}

func ctStartLogging(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	o, apiErr := s.trail(c, str(in, "Name"))
	if apiErr != nil {
		return nil, apiErr
	}
	o.Attrs["logging"], o.Attrs["started"] = true, epoch(c.Time)
	s.undo(c.Region, typeTrailStopped, "trail", o.ID, "restored")
	return &Result{Request: map[string]any{"name": str(in, "Name")}, Resources: made(o)}, nil
}

func ctStopLogging(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "Name")
	o, apiErr := s.trail(c, name)
	if apiErr != nil {
		return nil, apiErr
	}
	res := &Result{Request: map[string]any{"name": name}, Resources: made(o)}
	if o.Attrs["logging"] == true {
		ch := s.put(c, typeTrailStopped, name)
		ch.Attrs["trail"] = o.ID
		res.Resources = append(res.Resources, made(ch)...)
	}
	o.Attrs["logging"], o.Attrs["stopped"] = false, epoch(c.Time)
	return res, nil
}

func ctDeleteTrail(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	name := str(in, "Name")
	o, apiErr := s.trail(c, name)
	if apiErr != nil {
		return nil, apiErr
	}
	o.drop("deleted")
	s.undo(c.Region, typeTrailStopped, "trail", o.ID, "deleted")
	ch := s.put(c, typeTrailDeleted, name)
	ch.Attrs["trail"] = o.ID
	return &Result{Request: map[string]any{"name": name}, Resources: append(made(o), made(ch)...)}, nil
}

// ---- GuardDuty detectors ----

func detectorOps() map[string]handler {
	return map[string]handler{
		"CreateDetector": gdCreateDetector,
		"GetDetector":    gdGetDetector,
		"UpdateDetector": gdUpdateDetector,
		"DeleteDetector": gdDeleteDetector,
	}
}

func gdCreateDetector(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	enable, ok := in["enable"].(bool)
	if !ok {
		return nil, errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because the enable parameter is missing.")
	}
	rs := s.acct.region(c.Region)
	if rs.GuardDuty != nil {
		return nil, errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because a detector already exists for the current account.")
	}
	rs.GuardDuty = &guardDutyState{DetectorID: s.newHex(32), Disabled: !enable}
	for _, o := range s.live(c.Region, typeDetectorDeleted) {
		o.drop("restored")
	}
	out := map[string]any{"detectorId": rs.GuardDuty.DetectorID}
	return &Result{JSON: out, Request: map[string]any{"enable": enable}, Response: out,
		Resources: []EventResource{{Type: "AWS::GuardDuty::Detector", Name: rs.GuardDuty.DetectorID}}}, nil
}

func gdGetDetector(s *Sim, c *Call) (*Result, error) {
	gd, apiErr := s.gdDetector(c)
	if apiErr != nil {
		return nil, apiErr
	}
	status := "ENABLED"
	if gd.Disabled {
		status = "DISABLED"
	}
	return &Result{JSON: map[string]any{"status": status, "findingPublishingFrequency": "SIX_HOURS",
		"serviceRole": "arn:aws:iam::" + s.acct.ID + ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
		"createdAt":   "2024-01-01T00:00:00.000Z", "updatedAt": isoTime(c.Time)}, Request: map[string]any{"detectorId": gd.DetectorID}}, nil
}

func gdUpdateDetector(s *Sim, c *Call) (*Result, error) {
	gd, apiErr := s.gdDetector(c)
	if apiErr != nil {
		return nil, apiErr
	}
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	req := map[string]any{"detectorId": gd.DetectorID}
	res := &Result{JSON: map[string]any{}, Request: req}
	if enable, ok := in["enable"].(bool); ok {
		req["enable"] = enable
		switch {
		case !enable && !gd.Disabled:
			ch := s.put(c, typeDetectorDisabled, gd.DetectorID)
			res.Resources = made(ch)
		case enable:
			for _, o := range s.live(c.Region, typeDetectorDisabled) {
				o.drop("restored")
			}
		}
		gd.Disabled = !enable
	}
	return res, nil
}

func gdDeleteDetector(s *Sim, c *Call) (*Result, error) {
	gd, apiErr := s.gdDetector(c)
	if apiErr != nil {
		return nil, apiErr
	}
	s.acct.region(c.Region).GuardDuty = nil
	for _, o := range s.live(c.Region, typeDetectorDisabled) {
		o.drop("deleted")
	}
	ch := s.put(c, typeDetectorDeleted, gd.DetectorID)
	return &Result{JSON: map[string]any{}, Request: map[string]any{"detectorId": gd.DetectorID}, Resources: made(ch)}, nil
}

// ---- Organizations ----

// orgLeave takes the caller's account out of its organization. The
// management account cannot leave; only an invitation brings a member
// back.
func orgLeave(s *Sim, c *Call) (*Result, error) {
	org, apiErr := s.orgMember()
	if apiErr != nil {
		return nil, apiErr
	}
	if s.acct.ID == org.Master {
		return nil, errJSON("ConstraintViolationException", "You cannot remove the management account from its organization.")
	}
	s.acct.LeftOrg = true
	region := c.Region
	c.Region = iamRegion
	ch := s.put(c, typeLeftOrganization, s.acct.ID)
	c.Region = region
	return &Result{Resources: made(ch)}, nil
}
