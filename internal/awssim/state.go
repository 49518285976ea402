package awssim

import (
	"time"
)

// Region is one region of the simulated account and its opt-in status as
// ec2:DescribeRegions reports it: "opt-in-not-required", "opted-in" or
// "not-opted-in".
type Region struct {
	Name        string
	OptInStatus string
}

// Enabled reports whether calls may be made in the region.
func (r Region) Enabled() bool { return r.OptInStatus != "not-opted-in" }

// Credential kinds.
const (
	KindUserKey    = "user"       // long-term AKIA key of an IAM user
	KindRootKey    = "root"       // long-term AKIA key of the root user
	KindSession    = "session"    // ASIA key from sts:GetSessionToken
	KindFederation = "federation" // ASIA key from sts:GetFederationToken
	KindRole       = "role"       // ASIA key from sts:AssumeRole*
)

// Credential is an access key the simulator knows, long-term or temporary.
// Temporary keys remember their parent key and how they were made, which is
// what /_sim/truth reports as derivedKeys.
type Credential struct {
	AccessKeyID  string
	Secret       string
	SessionToken string
	Kind         string
	UserName     string // owning IAM user (user keys, session and federation tokens)
	RoleName     string // assumed role (role sessions)
	SessionName  string // role session name or federated user name
	Parent       string // access key ID that created this one
	Via          string // API call that created it: GetSessionToken, CreateAccessKey, ...
	ViaEventID   string // CloudTrail event ID of that call
	Status       string // "Active" or "Inactive" (long-term keys)
	Deleted      bool
	Created      time.Time // create date, and token issue time for temporary keys
	Expires      time.Time // zero for long-term keys
	// InlinePolicy is the session policy passed to GetFederationToken or
	// AssumeRole; its explicit denies apply to the session too.
	InlinePolicy string
	// MFAAt is when the session's principal last proved MFA (SerialNumber
	// and TokenCode of GetSessionToken or AssumeRole); zero without MFA.
	MFAAt time.Time

	LastUsed        time.Time
	LastUsedService string
	LastUsedRegion  string
}

// Temporary reports whether the credential is an STS session credential.
func (c *Credential) Temporary() bool {
	return c.Kind == KindSession || c.Kind == KindFederation || c.Kind == KindRole
}

// User is an IAM user.
type User struct {
	Name         string
	ID           string // AIDA...
	Path         string
	Created      time.Time
	Inline       map[string]string // policy name -> document (JSON)
	Attached     []string          // managed policy ARNs, in attach order
	Groups       []string
	LoginProfile *LoginProfile
	Tags         map[string]string
	CreatedBy    string // access key ID of the creator, "" for scenario set-up
}

// LoginProfile is an IAM user's console password (the password is not kept).
type LoginProfile struct {
	Created               time.Time
	PasswordResetRequired bool
}

// Group is an IAM group.
type Group struct {
	Name     string
	ID       string
	Path     string
	Created  time.Time
	Inline   map[string]string
	Attached []string
}

// Role is an IAM role.
type Role struct {
	Name             string
	ID               string // AROA...
	Path             string
	Created          time.Time
	AssumeRolePolicy string
	Inline           map[string]string
	Attached         []string
	MaxSession       time.Duration
	CreatedBy        string
}

// ManagedPolicy is a managed policy: an AWS managed one (arn:aws:iam::aws:policy/...)
// or one of the account's.
type ManagedPolicy struct {
	ARN      string
	Name     string
	ID       string
	Path     string
	Document string
	Created  time.Time
}

// Instance is an EC2 instance.
type Instance struct {
	ID            string
	ImageID       string
	InstanceType  string
	KeyName       string
	State         string // pending, running, stopped, terminated
	LaunchTime    time.Time
	SecurityGroup []string
	CreatedBy     string // access key ID
	// UserData is RunInstances' UserData as given (base64); Ended is when
	// it was terminated. Evidence and the bill read them.
	UserData string
	Ended    time.Time
}

// KeyPair is an EC2 key pair.
type KeyPair struct {
	Name        string
	ID          string
	Fingerprint string
	Created     time.Time
	CreatedBy   string
}

// SecurityGroup is an EC2 security group.
type SecurityGroup struct {
	ID          string
	Name        string
	Description string
	VpcID       string
	Ingress     []IngressRule
	CreatedBy   string
}

// IngressRule is one ingress permission of a security group.
type IngressRule struct {
	Protocol string
	FromPort int
	ToPort   int
	CidrIP   string
}

// Function is a Lambda function.
type Function struct {
	Name         string
	ARN          string
	Runtime      string
	Role         string
	Handler      string
	CodeSize     int64
	LastModified time.Time
	CreatedBy    string
	// Code is the deployment package, served at GetFunction's Code.Location.
	Code []byte
}

// regionState is what the simulator keeps per region.
type regionState struct {
	Instances      map[string]*Instance
	KeyPairs       map[string]*KeyPair // by name
	SecurityGroups map[string]*SecurityGroup
	Functions      map[string]*Function // by name
	Trail          *trailStore
	GuardDuty      *guardDutyState
	// SESPaused is the region's SES sending switch turned off;
	// BedrockLogging the model invocation logging configuration, nil when
	// off.
	SESPaused      bool
	BedrockLogging map[string]any
	// Objects are the resources kept in one shape (objects.go), by type
	// and ID.
	Objects map[string]map[string]*object
}

func newRegionState() *regionState {
	return &regionState{
		Instances:      map[string]*Instance{},
		KeyPairs:       map[string]*KeyPair{},
		SecurityGroups: map[string]*SecurityGroup{},
		Functions:      map[string]*Function{},
		Trail:          &trailStore{},
	}
}

// guardDutyState is a region's GuardDuty detector and its findings.
type guardDutyState struct {
	DetectorID string
	Disabled   bool             // UpdateDetector enable=false
	Findings   []map[string]any // finding documents in the GuardDuty JSON shape
}

// account is the whole simulated account. It is guarded by Sim.mu.
type account struct {
	ID       string
	Alias    string
	Regions  []Region
	Users    map[string]*User
	Groups   map[string]*Group
	Roles    map[string]*Role
	Policies map[string]*ManagedPolicy // by ARN
	Keys     map[string]*Credential    // every access key ID, long-term and temporary
	RootKeys []string
	// MFADevices are the virtual MFA devices, by serial number.
	MFADevices map[string]*MFADevice
	// ImplicitDeny makes the account evaluate Allow statements as AWS
	// does: what no identity policy allows is denied, and a role may be
	// assumed only by whom its trust policy allows. Accounts without it
	// deny only explicitly, which is all the older scenarios declare.
	ImplicitDeny bool
	regions      map[string]*regionState
	Joined       time.Time      // when the account joined the organization
	LeftOrg      bool           // LeaveOrganization: no longer a member
	limits       *lookupLimiter // LookupEvents throttle of an account other than the home one
}

func newAccount(id string) *account {
	a := &account{
		ID:       id,
		Users:    map[string]*User{},
		Groups:   map[string]*Group{},
		Roles:    map[string]*Role{},
		Policies: map[string]*ManagedPolicy{},
		Keys:     map[string]*Credential{},
		regions:  map[string]*regionState{},
	}
	for _, r := range defaultRegions() {
		a.Regions = append(a.Regions, r)
		a.regions[r.Name] = newRegionState()
	}
	for _, p := range awsManagedPolicies() {
		a.Policies[p.ARN] = p
	}
	return a
}

// region returns the state of a region, nil if the region does not exist.
func (a *account) region(name string) *regionState { return a.regions[name] }

// regionInfo returns the region record, ok false if unknown.
func (a *account) regionInfo(name string) (Region, bool) {
	for _, r := range a.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// defaultRegions are the commercial regions as DescribeRegions(AllRegions)
// lists them: the 17 that need no opt-in and the opt-in ones, of which none
// is enabled by default.
func defaultRegions() []Region {
	std := []string{
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
		"ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1",
		"eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	}
	optIn := []string{
		"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
		"il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	}
	var out []Region
	for _, n := range std {
		out = append(out, Region{Name: n, OptInStatus: "opt-in-not-required"})
	}
	for _, n := range optIn {
		out = append(out, Region{Name: n, OptInStatus: "not-opted-in"})
	}
	return out
}
