package awssim

import (
	"encoding/base32"
	"sort"
	"strings"
	"time"
)

// MFADevice is a virtual MFA device of the account; User is "" until it is
// enabled for a user. The seed is never kept.
type MFADevice struct {
	Serial    string
	Created   time.Time
	User      string
	Enabled   time.Time
	CreatedBy string
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
	devs[serial] = &MFADevice{Serial: serial, Created: c.Time.UTC(), CreatedBy: iamCreator(c)}
	seed := base32.StdEncoding.EncodeToString([]byte(s.newSecret()))[:32]
	res.XML = []*Node{elem("VirtualMFADevice", el("SerialNumber", serial), el("Base32StringSeed", seed))}
	res.Response = map[string]any{"virtualMFADevice": map[string]any{"serialNumber": serial}}
	return res, nil
}

// iamEnableMFADevice assigns a virtual MFA device to a user. The codes are
// not checked (the simulator has no clock of the device).
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
	d.User, d.Enabled = u.Name, c.Time.UTC()
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
