package awssim

import (
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// smSecret is one secret of the simulated Secrets Manager.
type smSecret struct {
	ARN         string
	Name        string
	Description string
	Created     time.Time
	Changed     time.Time
	Versions    map[string]*smVersion // by version ID
	CreatedBy   string
}

// smVersion is one version of a secret's value.
type smVersion struct {
	ID      string
	String  *string
	Binary  []byte
	Stages  []string
	Created time.Time
}

// secretStore holds the secrets of every region. It lives in the handlers'
// closure, so each Sim has its own; like all state it is guarded by Sim.mu.
type secretStore struct {
	byRegion map[string]map[string]*smSecret // region -> name -> secret
}

// secretsmanagerOps returns the handlers of the simulated Secrets Manager
// API (JSON 1.1, X-Amz-Target secretsmanager.<Action>).
func secretsmanagerOps() map[string]handler {
	st := &secretStore{byRegion: map[string]map[string]*smSecret{}}
	return map[string]handler{
		"CreateSecret":   st.create,
		"PutSecretValue": st.put,
		"DescribeSecret": st.describe,
		"GetSecretValue": st.get,
	}
}

// smInput is the union of the request fields of the four actions.
type smInput struct {
	Name               *string
	SecretId           *string
	Description        *string
	SecretString       *string
	SecretBinary       []byte // base64 in JSON, decoded by encoding/json
	ClientRequestToken *string
	VersionId          *string
	VersionStage       *string
	KmsKeyId           *string
}

func errSMNotFound() *APIError {
	return errf(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func errSMInvalid(format string, args ...any) *APIError {
	return errf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func (st *secretStore) region(r string) map[string]*smSecret {
	m := st.byRegion[r]
	if m == nil {
		m = map[string]*smSecret{}
		st.byRegion[r] = m
	}
	return m
}

// find resolves a SecretId: the secret's name, its full ARN, or its ARN
// without the six random characters AWS appends (a partial ARN).
func (st *secretStore) find(region, id string) (*smSecret, bool) {
	m := st.region(region)
	if s, ok := m[id]; ok {
		return s, true
	}
	for _, s := range m {
		if s.ARN == id || strings.HasPrefix(s.ARN, id+"-") && len(s.ARN) == len(id)+7 {
			return s, true
		}
	}
	return nil, false
}

// smRequest is the CloudTrail requestParameters of a call: the names and
// tokens, never SecretString or SecretBinary, as AWS logs it.
func smRequest(in *smInput) map[string]any {
	req := map[string]any{}
	add := func(k string, v *string) {
		if v != nil {
			req[k] = *v
		}
	}
	add("name", in.Name)
	add("secretId", in.SecretId)
	add("description", in.Description)
	add("clientRequestToken", in.ClientRequestToken)
	add("versionId", in.VersionId)
	add("versionStage", in.VersionStage)
	add("kmsKeyId", in.KmsKeyId)
	if len(req) == 0 {
		return nil
	}
	return req
}

// epoch is how JSON 1.1 sends timestamps: seconds since 1970 as a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func smResource(s *smSecret) []EventResource {
	return []EventResource{{Type: "AWS::SecretsManager::Secret", Name: s.ARN}}
}

// checkValue validates the value fields shared by CreateSecret and
// PutSecretValue.
func checkValue(in *smInput, required bool) *APIError {
	if in.SecretString != nil && in.SecretBinary != nil {
		return errSMInvalid("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if required && in.SecretString == nil && in.SecretBinary == nil {
		return errSMInvalid("You must provide either SecretString or SecretBinary.")
	}
	if in.SecretString != nil && len(*in.SecretString) > 65536 || len(in.SecretBinary) > 65536 {
		return errSMInvalid("The secret value is larger than 65536 bytes.")
	}
	if t := in.ClientRequestToken; t != nil && (len(*t) < 32 || len(*t) > 64) {
		return errSMInvalid("ClientRequestToken must be 32-64 characters long.")
	}
	return nil
}

// addVersion adds a value version and moves AWSCURRENT to it, the previous
// current version becoming AWSPREVIOUS. A repeated ClientRequestToken with
// the same value is the same request, answered again without a new version
// (this is what makes a retried put safe); with another value it fails.
func (st *secretStore) addVersion(s *Sim, sec *smSecret, in *smInput, now time.Time) (*smVersion, *APIError) {
	id := ""
	if in.ClientRequestToken != nil {
		id = *in.ClientRequestToken
	}
	if v, ok := sec.Versions[id]; ok && id != "" {
		same := (v.String == nil) == (in.SecretString == nil) &&
			(v.String == nil || *v.String == *in.SecretString) && string(v.Binary) == string(in.SecretBinary)
		if !same {
			return nil, errf(http.StatusBadRequest, "ResourceExistsException",
				"You can't modify an existing version, you can only create a new version.")
		}
		return v, nil
	}
	if id == "" {
		id = s.newUUID()
	}
	for _, v := range sec.Versions {
		v.Stages = slicesWithout(v.Stages, "AWSPREVIOUS")
		if slices.Contains(v.Stages, "AWSCURRENT") {
			v.Stages = append(slicesWithout(v.Stages, "AWSCURRENT"), "AWSPREVIOUS")
		}
		if len(v.Stages) == 0 {
			// AWS drops versions with no staging label in time; the
			// simulator does it at once.
			delete(sec.Versions, v.ID)
		}
	}
	v := &smVersion{ID: id, String: in.SecretString, Binary: in.SecretBinary, Stages: []string{"AWSCURRENT"}, Created: now}
	sec.Versions[id] = v
	sec.Changed = now
	return v, nil
}

func slicesWithout(list []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == drop })
}

// validSecretName: names are 1-512 characters of letters, digits and /_+=.@-.
func validSecretName(n string) bool {
	if n == "" || len(n) > 512 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-", r)) {
			return false
		}
	}
	return true
}

func (st *secretStore) create(s *Sim, c *Call) (*Result, error) {
	var in smInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	res := &Result{Request: smRequest(&in)}
	if in.Name == nil || !validSecretName(*in.Name) {
		return res, errSMInvalid("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if err := checkValue(&in, false); err != nil {
		return res, err
	}
	m := st.region(c.Region)
	if _, ok := m[*in.Name]; ok {
		return res, errf(http.StatusBadRequest, "ResourceExistsException", "The operation failed because the secret %s already exists.", *in.Name)
	}
	// AWS appends six random characters so that a secret deleted and made
	// again under the same name gets a new ARN.
	suffix := strings.ToLower(s.newHex(6))
	sec := &smSecret{
		ARN:  "arn:aws:secretsmanager:" + c.Region + ":" + s.acct.ID + ":secret:" + *in.Name + "-" + suffix,
		Name: *in.Name, Created: c.Time.UTC(), Changed: c.Time.UTC(),
		Versions: map[string]*smVersion{}, CreatedBy: iamCreator(c),
	}
	if in.Description != nil {
		sec.Description = *in.Description
	}
	out := map[string]any{"ARN": sec.ARN, "Name": sec.Name}
	if in.SecretString != nil || in.SecretBinary != nil {
		v, err := st.addVersion(s, sec, &in, c.Time.UTC())
		if err != nil {
			return res, err
		}
		out["VersionId"] = v.ID
	}
	m[sec.Name] = sec
	res.JSON = out
	res.Response = map[string]any{"arn": sec.ARN}
	res.Resources = smResource(sec)
	return res, nil
}

func (st *secretStore) secretOf(c *Call, in *smInput) (*smSecret, *APIError) {
	if in.SecretId == nil || *in.SecretId == "" {
		return nil, errSMInvalid("You must provide a SecretId.")
	}
	sec, ok := st.find(c.Region, *in.SecretId)
	if !ok {
		return nil, errSMNotFound()
	}
	return sec, nil
}

func (st *secretStore) put(s *Sim, c *Call) (*Result, error) {
	var in smInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	res := &Result{Request: smRequest(&in)}
	sec, err := st.secretOf(c, &in)
	if err != nil {
		return res, err
	}
	if err := checkValue(&in, true); err != nil {
		return res, err
	}
	v, err := st.addVersion(s, sec, &in, c.Time.UTC())
	if err != nil {
		return res, err
	}
	res.JSON = map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": v.ID, "VersionStages": v.Stages}
	res.Response = map[string]any{"arn": sec.ARN}
	res.Resources = smResource(sec)
	return res, nil
}

func (st *secretStore) describe(s *Sim, c *Call) (*Result, error) {
	var in smInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	res := &Result{Request: smRequest(&in)}
	sec, err := st.secretOf(c, &in)
	if err != nil {
		return res, err
	}
	stages := map[string][]string{}
	for id, v := range sec.Versions {
		stages[id] = v.Stages
	}
	out := map[string]any{
		"ARN": sec.ARN, "Name": sec.Name, "CreatedDate": epoch(sec.Created),
		"LastChangedDate": epoch(sec.Changed), "VersionIdsToStages": stages,
	}
	if sec.Description != "" {
		out["Description"] = sec.Description
	}
	res.JSON = out
	res.Resources = smResource(sec)
	return res, nil
}

func (st *secretStore) get(s *Sim, c *Call) (*Result, error) {
	var in smInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	res := &Result{Request: smRequest(&in)}
	sec, err := st.secretOf(c, &in)
	if err != nil {
		return res, err
	}
	var v *smVersion
	switch {
	case in.VersionId != nil:
		v = sec.Versions[*in.VersionId]
	default:
		stage := "AWSCURRENT"
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		ids := make([]string, 0, len(sec.Versions))
		for id := range sec.Versions {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if slices.Contains(sec.Versions[id].Stages, stage) {
				v = sec.Versions[id]
			}
		}
	}
	if v == nil {
		return res, errf(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	}
	out := map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": v.ID, "VersionStages": v.Stages, "CreatedDate": epoch(v.Created)}
	if v.String != nil {
		out["SecretString"] = *v.String
	}
	if v.Binary != nil {
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(v.Binary)
	}
	// The value is in the answer only; CloudTrail records the request.
	res.JSON = out
	res.Resources = smResource(sec)
	return res, nil
}
