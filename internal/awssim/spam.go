package awssim

import (
	"net/http"
	"strings"
)

// Spam and LLMjacking: SES identities and the region's sending switch
// (awsQuery), Bedrock's model agreements and invocation logging (REST
// JSON).

const (
	typeSESIdentity       = "AWS::SES::EmailIdentity"
	typeSESSending        = "AWS::SES::AccountSending"
	typeModelAgreement    = "AWS::Bedrock::ModelAgreement"
	typeInvocationLogging = "AWS::Bedrock::InvocationLoggingOff"
)

func sesOps() map[string]handler {
	return map[string]handler{
		"VerifyEmailIdentity":               sesVerifyEmail,
		"VerifyDomainIdentity":              sesVerifyDomain,
		"GetIdentityVerificationAttributes": sesGetVerification,
		"DeleteIdentity":                    sesDeleteIdentity,
		"UpdateAccountSendingEnabled":       sesUpdateSending,
		"GetAccountSendingEnabled":          sesGetSending,
	}
}

func sesVerifyEmail(s *Sim, c *Call) (*Result, error) {
	addr := c.Param("EmailAddress")
	if !strings.Contains(addr, "@") {
		return nil, errValidation("Invalid email address<%s>.", addr)
	}
	o := s.obj(c.Region, typeSESIdentity, addr)
	if o == nil {
		o = s.put(c, typeSESIdentity, addr)
		o.Status = "Pending"
	}
	return &Result{Request: map[string]any{"emailAddress": addr}, Resources: made(o)}, nil
}

func sesVerifyDomain(s *Sim, c *Call) (*Result, error) {
	domain := c.Param("Domain")
	if domain == "" || strings.Contains(domain, "@") {
		return nil, errValidation("Invalid domain name %s.", domain)
	}
	o := s.obj(c.Region, typeSESIdentity, domain)
	if o == nil {
		o = s.put(c, typeSESIdentity, domain)
		o.Status = "Pending"
		o.Attrs["token"] = s.newHex(44)
	}
	return &Result{XML: []*Node{el("VerificationToken", str(o.Attrs, "token"))}, Request: map[string]any{"domain": domain},
		Response: map[string]any{"verificationToken": str(o.Attrs, "token")}, Resources: made(o)}, nil
}

func sesGetVerification(s *Sim, c *Call) (*Result, error) {
	ids := listParam(c.Params, "Identities.member")
	var entries []*Node
	for _, id := range ids {
		if o := s.obj(c.Region, typeSESIdentity, id); o != nil {
			v := elem("value", el("VerificationStatus", o.Status))
			if t := str(o.Attrs, "token"); t != "" {
				v.Kids = append(v.Kids, el("VerificationToken", t))
			}
			entries = append(entries, elem("entry", el("key", id), v))
		}
	}
	return &Result{XML: []*Node{elem("VerificationAttributes", entries...)}, Request: map[string]any{"identities": ids}}, nil
}

func sesDeleteIdentity(s *Sim, c *Call) (*Result, error) {
	id := c.Param("Identity")
	if id == "" {
		return nil, errMissingParam("Identity")
	}
	res := &Result{Request: map[string]any{"identity": id}}
	// SES answers the deletion of an unknown identity with success.
	if o := s.obj(c.Region, typeSESIdentity, id); o != nil {
		o.drop("deleted")
		res.Resources = made(o)
	}
	return res, nil
}

func sesUpdateSending(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	enabled := c.Param("Enabled") == "true"
	res := &Result{Request: map[string]any{"enabled": enabled}}
	switch {
	case enabled && rs.SESPaused:
		o := s.put(c, typeSESSending, "account-sending")
		res.Resources = made(o)
	case !enabled:
		for _, o := range s.live(c.Region, typeSESSending) {
			o.drop("restored")
		}
	}
	rs.SESPaused = !enabled
	return res, nil
}

func sesGetSending(s *Sim, c *Call) (*Result, error) {
	return &Result{XML: []*Node{el("Enabled", boolText(!s.acct.region(c.Region).SESPaused))}}, nil
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// ---- Bedrock ----

func bedrockOps() map[string]handler {
	return map[string]handler{
		"CreateFoundationModelAgreement":            brCreateAgreement,
		"DeleteFoundationModelAgreement":            brDeleteAgreement,
		"GetFoundationModelAvailability":            brAvailability,
		"GetModelInvocationLoggingConfiguration":    brGetLogging,
		"PutModelInvocationLoggingConfiguration":    brPutLogging,
		"DeleteModelInvocationLoggingConfiguration": brDeleteLogging,
	}
}

// bedrockModel strips a model ID's version suffix (":0"), as Bedrock's
// answers name models.
func bedrockModel(id string) string {
	if i := strings.LastIndex(id, ":"); i > 0 && !strings.Contains(id[i:], ".") {
		return id[:i]
	}
	return id
}

// agreement is the live agreement of a model, named with or without its
// version suffix.
func (s *Sim) agreement(c *Call, model string) *object {
	for _, o := range s.live(c.Region, typeModelAgreement) {
		if bedrockModel(o.ID) == bedrockModel(model) {
			return o
		}
	}
	return nil
}

func brCreateAgreement(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	model, offer := str(in, "modelId"), str(in, "offerToken")
	if model == "" || offer == "" {
		return nil, errf(http.StatusBadRequest, "ValidationException", "modelId and offerToken are required")
	}
	o := s.agreement(c, model)
	if o == nil {
		o = s.put(c, typeModelAgreement, model)
	}
	out := map[string]any{"modelId": bedrockModel(model)}
	// The record keeps the offer token out, as AWS does.
	return &Result{JSON: out, Status: http.StatusAccepted, Request: map[string]any{"modelId": model}, Response: out, Resources: made(o)}, nil
}

func brDeleteAgreement(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	model := str(in, "modelId")
	o := s.agreement(c, model)
	if o == nil {
		return nil, errf(http.StatusNotFound, "ResourceNotFoundException", "No agreement found for model %s.", model)
	}
	o.drop("deleted")
	return &Result{JSON: map[string]any{}, Status: http.StatusAccepted, Request: map[string]any{"modelId": model}, Resources: made(o)}, nil
}

func brAvailability(s *Sim, c *Call) (*Result, error) {
	model := c.Param("modelId")
	status := "NOT_AVAILABLE"
	if s.agreement(c, model) != nil {
		status = "AVAILABLE"
	}
	return &Result{JSON: map[string]any{"modelId": bedrockModel(model), "agreementAvailability": map[string]any{"status": status},
		"authorizationStatus": "AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"},
		Request: map[string]any{"modelId": model}}, nil
}

func brGetLogging(s *Sim, c *Call) (*Result, error) {
	out := map[string]any{}
	if cfg := s.acct.region(c.Region).BedrockLogging; cfg != nil {
		out["loggingConfig"] = cfg
	}
	return &Result{JSON: out}, nil
}

func brPutLogging(s *Sim, c *Call) (*Result, error) {
	in, err := jsonIn(c)
	if err != nil {
		return nil, err
	}
	cfg, ok := in["loggingConfig"].(map[string]any)
	if !ok {
		return nil, errf(http.StatusBadRequest, "ValidationException", "loggingConfig is required")
	}
	s.acct.region(c.Region).BedrockLogging = cfg
	for _, o := range s.live(c.Region, typeInvocationLogging) {
		o.drop("restored")
	}
	return &Result{JSON: map[string]any{}, Request: map[string]any{"loggingConfig": cfg}}, nil
}

func brDeleteLogging(s *Sim, c *Call) (*Result, error) {
	rs := s.acct.region(c.Region)
	res := &Result{JSON: map[string]any{}}
	if rs.BedrockLogging != nil {
		o := s.put(c, typeInvocationLogging, "model-invocation-logging")
		res.Resources = made(o)
	}
	rs.BedrockLogging = nil
	return res, nil
}
