package awssim

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"
)

// MFADevice is a virtual MFA device of the account; User is "" until it is
// enabled for a user. Its seed is kept only to check codes: it appears in
// no record, no truth and no listing, as in AWS.
type MFADevice struct {
	Serial    string
	Created   time.Time
	User      string
	Enabled   time.Time
	CreatedBy string

	key      []byte // the TOTP secret
	lastStep int64  // the step of the last code accepted: a code works once
}

// errMFACode is AWS's answer to a wrong code for a device.
func errMFACode() *APIError {
	return errf(403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
}

// errMFADevice is AWS's answer to a serial number that is not the caller's
// device.
func errMFADevice() *APIError {
	return errf(403, "AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
}

// checkMFA validates SerialNumber and TokenCode of an STS call against the
// caller's MFA devices and spends the code. It returns whether MFA was
// given; an error when it was given wrong. Called in the caller's account.
func (s *Sim) checkMFA(c *Call) (bool, *APIError) {
	d, step, err := s.verifyMFA(c)
	if d == nil || err != nil {
		return false, err
	}
	d.lastStep = step
	return true, nil
}

// verifyMFA checks the call's SerialNumber and TokenCode without spending
// the code: the device and the code's step, nil without MFA parameters.
func (s *Sim) verifyMFA(c *Call) (*MFADevice, int64, *APIError) {
	serial, code := c.Params["SerialNumber"], c.Params["TokenCode"]
	if serial == "" && code == "" {
		return nil, 0, nil
	}
	if serial == "" {
		return nil, 0, errMissingParam("SerialNumber")
	}
	if len(code) != totpDigits || strings.Trim(code, "0123456789") != "" {
		return nil, 0, errValidation("1 validation error detected: Value '%s' at 'tokenCode' failed to satisfy constraint: Member must have length 6 and satisfy regular expression pattern: [\\d]*", code)
	}
	d, ok := s.mfaDevices()[serial]
	if !ok || d.User == "" || c.cred == nil || d.User != c.cred.UserName {
		return nil, 0, errMFADevice()
	}
	step, ok := totpMatch(d.key, code, c.Time)
	if !ok || step <= d.lastStep {
		return nil, 0, errMFACode()
	}
	return d, step, nil
}

// UserMFA returns the serial number of the user's MFA device in the
// current set-up account, "" if the user has none.
func (s *Sim) UserMFA(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.mfaDevices() {
		if d.User == user {
			return d.Serial
		}
	}
	return ""
}

// AddMFADevice gives a user of the current set-up account (see InAccount)
// an enabled virtual MFA device named name, as part of the account's
// set-up, and returns its serial number and Base32 seed: what an
// authenticator app is given to show the codes.
func (s *Sim) AddMFADevice(user, name string, created time.Time) (serial, seed string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.Users[user]; !ok {
		return "", "", fmt.Errorf("add MFA device: no user %s", user)
	}
	serial = "arn:aws:iam::" + s.acct.ID + ":mfa/" + name
	if _, ok := s.mfaDevices()[serial]; ok {
		return "", "", fmt.Errorf("add MFA device %s: already exists", serial)
	}
	seed, key := s.newMFASeed()
	s.mfaDevices()[serial] = &MFADevice{Serial: serial, Created: created.UTC(), User: user, Enabled: created.UTC(), key: key}
	return serial, seed, nil
}

// newMFASeed makes a device secret: 20 bytes, shown as 32 Base32 characters
// as AWS shows them.
func (s *Sim) newMFASeed() (string, []byte) {
	key := make([]byte, 20)
	copy(key, s.newSecret())
	return base32.StdEncoding.EncodeToString(key), key
}

// serviceRolePath is the path of service-linked roles, which only AWS may
// change.
const serviceRolePath = "/aws-service-role/"

func errProtectedRole(name string) *APIError {
	return errf(400, "UnmodifiableEntity", "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// iamUpdateAssumeRolePolicy replaces a role's trust policy: the change an
// attacker makes to let an account of its own assume the role.
func iamUpdateAssumeRolePolicy(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "RoleName", "PolicyDocument")}
	name, err := iamCheckName(c, "RoleName", 64)
	if err != nil {
		return res, err
	}
	r, ok := iamFind(s.acct.Roles, name)
	if !ok {
		return res, errNoSuchRole(name)
	}
	if strings.HasPrefix(r.Path, serviceRolePath) {
		return res, errProtectedRole(r.Name)
	}
	doc, ok := c.Params["PolicyDocument"]
	if !ok {
		return res, errMissingParam("PolicyDocument")
	}
	if err := iamCheckPolicy(doc, iamTrustPolicy); err != nil {
		return res, err
	}
	r.AssumeRolePolicy = doc
	res.Resources = []EventResource{{Type: "AWS::IAM::Role", Name: r.Name}}
	return res, nil
}

// mfaDevices returns the account's MFA devices, made on first use.
func (s *Sim) mfaDevices() map[string]*MFADevice {
	if s.acct.MFADevices == nil {
		s.acct.MFADevices = map[string]*MFADevice{}
	}
	return s.acct.MFADevices
}

func errNoSuchMFA(serial string) *APIError {
	return errf(404, "NoSuchEntity", "MFA device with serial number %s does not exist.", serial)
}

// iamCreateVirtualMFADevice makes an unassigned virtual MFA device. The
// seed is in the answer only, as in AWS; CloudTrail records the serial.
// The answer's Base32StringSeed is a blob: Base64 of the Base32 text, which
// is what SDKs decode and the AWS CLI writes to its --outfile.
func iamCreateVirtualMFADevice(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "VirtualMFADeviceName", "Path")}
	name, err := iamCheckName(c, "VirtualMFADeviceName", 226)
	if err != nil {
		return res, err
	}
	path, err := iamCheckPath(c)
	if err != nil {
		return res, err
	}
	serial := "arn:aws:iam::" + s.acct.ID + ":mfa" + path + name
	devs := s.mfaDevices()
	if _, ok := devs[serial]; ok {
		return res, errf(409, "EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")
	}
	seed, key := s.newMFASeed()
	devs[serial] = &MFADevice{Serial: serial, Created: c.Time.UTC(), CreatedBy: iamCreator(c), key: key}
	res.XML = []*Node{elem("VirtualMFADevice", el("SerialNumber", serial), el("Base32StringSeed", base64.StdEncoding.EncodeToString([]byte(seed))))}
	res.Response = map[string]any{"virtualMFADevice": map[string]any{"serialNumber": serial}}
	return res, nil
}

// iamEnableMFADevice assigns a virtual MFA device to a user. As in AWS, it
// takes two consecutive codes of the device.
func iamEnableMFADevice(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName", "SerialNumber")}
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	serial := c.Params["SerialNumber"]
	if serial == "" {
		return res, errMissingParam("SerialNumber")
	}
	if c.Params["AuthenticationCode1"] == "" || c.Params["AuthenticationCode2"] == "" {
		return res, errMissingParam("AuthenticationCode1")
	}
	d, ok := s.mfaDevices()[serial]
	if !ok {
		return res, errNoSuchMFA(serial)
	}
	if d.User != "" {
		return res, errf(409, "EntityAlreadyExists", "MFA Device is already in use.")
	}
	step, ok := totpMatch(d.key, c.Params["AuthenticationCode1"], c.Time.Add(-totpStep))
	if !ok || totpAt(d.key, step+1) != c.Params["AuthenticationCode2"] {
		return res, errf(403, "InvalidAuthenticationCode", "Authentication code for device is not valid.")
	}
	d.User, d.Enabled, d.lastStep = u.Name, c.Time.UTC(), step+1
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamListMFADevices lists the MFA devices enabled for a user.
func iamListMFADevices(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	var devs []*MFADevice
	for _, d := range s.mfaDevices() {
		if d.User == u.Name {
			devs = append(devs, d)
		}
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Serial < devs[j].Serial })
	var items []*Node
	for _, d := range devs {
		items = append(items, elem("", el("UserName", d.User), el("SerialNumber", d.Serial), el("EnableDate", isoTime(d.Enabled))))
	}
	res.XML = []*Node{members("MFADevices", "member", items), el("IsTruncated", "false")}
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamDeactivateMFADevice unassigns an MFA device from its user.
func iamDeactivateMFADevice(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName", "SerialNumber")}
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	serial := c.Params["SerialNumber"]
	d, ok := s.mfaDevices()[serial]
	if !ok || d.User != u.Name {
		return res, errNoSuchMFA(serial)
	}
	d.User, d.Enabled = "", time.Time{}
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamDeleteVirtualMFADevice deletes an unassigned virtual MFA device.
func iamDeleteVirtualMFADevice(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "SerialNumber")}
	serial := c.Params["SerialNumber"]
	if serial == "" {
		return res, errMissingParam("SerialNumber")
	}
	devs := s.mfaDevices()
	d, ok := devs[serial]
	if !ok {
		return res, errNoSuchMFA(serial)
	}
	if d.User != "" {
		return res, errf(409, "DeleteConflict", "MFA Device is still in use.")
	}
	delete(devs, serial)
	return res, nil
}

// iamListVirtualMFADevices lists the account's virtual MFA devices, with
// the user of each assigned one; AssignmentStatus filters (Assigned,
// Unassigned, Any).
func iamListVirtualMFADevices(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "AssignmentStatus")}
	want := c.Params["AssignmentStatus"]
	switch want {
	case "", "Any", "Assigned", "Unassigned":
	default:
		return res, errValidation("1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]", want)
	}
	var devs []*MFADevice
	for _, d := range s.mfaDevices() {
		if want == "Assigned" && d.User == "" || want == "Unassigned" && d.User != "" {
			continue
		}
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Serial < devs[j].Serial })
	var items []*Node
	for _, d := range devs {
		n := elem("", el("SerialNumber", d.Serial))
		if d.User != "" {
			n.Kids = append(n.Kids, elem("User", el("UserName", d.User)), el("EnableDate", isoTime(d.Enabled)))
		}
		items = append(items, n)
	}
	res.XML = []*Node{members("VirtualMFADevices", "member", items), el("IsTruncated", "false")}
	return res, nil
}
