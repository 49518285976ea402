package report

import (
	"slices"
	"strings"
	"time"
)

// The fixture replays the incident of DESIGN.md in UTC (19:10 JST is
// 10:10 UTC): a key pushed to a public repository, quarantined by AWS,
// used by an attacker who plants a backdoor user and starts an instance,
// then deactivated and cleaned up, one deletion failing.
const (
	leakedKey   = "AKIA5EXAMPLELEAK0001"
	sessionKey  = "ASIA5EXAMPLESESS0001"
	backdoorKey = "AKIA5EXAMPLEBACKDR01"
	account     = "111122223333"
	responder   = "arn:aws:iam::111122223333:user/oncall-admin"
	// exampleSecret is the documentation secret access key of AWS.
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// fakeToken looks like an STS session token (current format) without
// being one.
var fakeToken = "IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJGMEQCIGZha2V0b2tlbmZvcnRlc3Rz" + strings.Repeat("b25seUFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFla", 8) + "=="

func at(hms string) time.Time {
	t, err := time.Parse(time.DateTime, "2024-05-01 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

func fixtureEvents() []Event {
	return []Event{
		{
			EventID: "0a6c8a52-0001-4a1e-9d6e-000000000001", Time: at("09:30:00"), Region: "ap-northeast-1",
			Source: "ec2.amazonaws.com", Name: "DescribeInstances", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "198.51.100.10", UserAgent: "aws-sdk-go-v2/1.30.3 os/linux", ReadOnly: true,
			Verdict: VerdictLegitimate, Severity: SeverityInfo, Reason: "known workload IP",
		},
		{
			EventID: "0a6c8a52-0002-4a1e-9d6e-000000000002", Time: at("10:17:03"), Region: "us-east-1",
			Source: "sts.amazonaws.com", Name: "GetCallerIdentity", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityLow, RuleID: "recon.whoami", Technique: "T1033", Category: "discovery",
		},
		{
			EventID: "0a6c8a52-0003-4a1e-9d6e-000000000003", Time: at("10:18:40"), Region: "us-east-1",
			Source: "iam.amazonaws.com", Name: "ListUsers", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityMedium, RuleID: "recon.iam-enumeration", Technique: "T1087.004", Category: "discovery",
		},
		{
			EventID: "0a6c8a52-0004-4a1e-9d6e-000000000004", Time: at("10:19:12"), Region: "us-east-1",
			Source: "iam.amazonaws.com", Name: "CreateUser", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0 Python/3.11.6",
			Verdict: VerdictAttacker, Severity: SeverityCritical, RuleID: "persistence.iam-create-user", Technique: "T1136.003", Category: "persistence",
			Resources: []ResourceRef{{Type: "AWS::IAM::User", Name: "svc-backup"}},
		},
		{
			EventID: "0a6c8a52-0005-4a1e-9d6e-000000000005", Time: at("10:19:30"), Region: "us-east-1",
			Source: "iam.amazonaws.com", Name: "CreateAccessKey", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0 Python/3.11.6",
			Verdict: VerdictAttacker, Severity: SeverityCritical, RuleID: "persistence.iam-create-access-key", Technique: "T1098.001", Category: "persistence",
			Resources: []ResourceRef{{Type: "AWS::IAM::AccessKey", Name: backdoorKey}},
		},
		{
			EventID: "0a6c8a52-0006-4a1e-9d6e-000000000006", Time: at("10:21:00"), Region: "us-east-1",
			Source: "sts.amazonaws.com", Name: "GetSessionToken", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.8", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityHigh, RuleID: "persistence.session-token", Technique: "T1550.001", Category: "persistence",
			Raw: []byte(`{"eventName":"GetSessionToken","responseElements":{"credentials":{"accessKeyId":"` + sessionKey +
				`","sessionToken":"` + fakeToken + `","expiration":"May 2, 2024, 10:21:00 AM"}},"note":"secret ` + exampleSecret + `"}`),
		},
		{
			EventID: "0a6c8a52-0007-4a1e-9d6e-000000000007", Time: at("10:25:10"), Region: "ap-southeast-1",
			Source: "ec2.amazonaws.com", Name: "RunInstances", AccessKeyID: sessionKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.8", UserAgent: "aws-cli/2.15.0 Python/3.11.6",
			Verdict: VerdictAttacker, Severity: SeverityHigh, RuleID: "impact.run-instances", Technique: "T1496", Category: "impact",
			Resources: []ResourceRef{{Type: "AWS::EC2::Instance", Name: "i-0a1b2c3d4e5f67890"}},
		},
		{
			EventID: "0a6c8a52-0008-4a1e-9d6e-000000000008", Time: at("10:26:00"), Region: "sa-east-1",
			Source: "ec2.amazonaws.com", Name: "DescribeInstances", AccessKeyID: sessionKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.8", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ErrorCode: "Client.UnauthorizedOperation",
			ErrorMessage: "You are not authorized to perform this operation.", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityLow, RuleID: "recon.ec2-enumeration", Technique: "T1580", Category: "discovery",
		},
		{
			EventID: "0a6c8a52-0009-4a1e-9d6e-000000000009", Time: at("11:40:00"), Region: "us-east-1",
			Source: "s3.amazonaws.com", Name: "ListBuckets", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "192.0.2.44", UserAgent: "Boto3/1.34.0", ReadOnly: true,
			Verdict: VerdictUnclear, Severity: SeverityLow,
		},
		{
			EventID: "0a6c8a52-0010-4a1e-9d6e-000000000010", Time: at("12:20:00"), Region: "us-east-1",
			Source: "iam.amazonaws.com", Name: "GetUser", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.9", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityLow, RuleID: "recon.iam-enumeration", Technique: "T1087.004", Category: "discovery",
		},
		{
			EventID: "0a6c8a52-0011-4a1e-9d6e-000000000011", Time: at("12:40:00"), Region: "ap-southeast-1",
			Source: "ec2.amazonaws.com", Name: "DescribeSecurityGroups", AccessKeyID: sessionKey, UserName: "deploy-bot",
			SourceIP: "203.0.113.8", UserAgent: "aws-cli/2.15.0 Python/3.11.6", ReadOnly: true,
			Verdict: VerdictAttacker, Severity: SeverityLow, RuleID: "recon.ec2-enumeration", Technique: "T1580", Category: "discovery",
		},
		{
			EventID: "0a6c8a52-0012-4a1e-9d6e-000000000012", Time: at("12:55:00"), Region: "ap-northeast-1",
			Source: "ec2.amazonaws.com", Name: "DescribeInstances", AccessKeyID: leakedKey, UserName: "deploy-bot",
			SourceIP: "198.51.100.10", UserAgent: "aws-sdk-go-v2/1.30.3 os/linux", ErrorCode: "AuthFailure", ReadOnly: true,
			Verdict: VerdictLegitimate, Severity: SeverityInfo, Reason: "known workload IP",
		},
	}
}

func fixtureModel() *Model {
	evs := fixtureEvents()
	return &Model{
		Case: Case{
			ID:           "keyleak-case-" + leakedKey + "-20240501T122650Z",
			KeyID:        leakedKey,
			AccountID:    account,
			OwnerUser:    "deploy-bot",
			OwnerARN:     "arn:aws:iam::111122223333:user/deploy-bot",
			KeyCreatedAt: time.Date(2023, 11, 20, 8, 0, 0, 0, time.UTC),
			KeyStatus:    "Inactive",
			KeyStatusAt:  at("12:29:00"),
			LeakChannel:  "public GitHub repository",
			LeakedAt:     at("10:10:00"),
			DetectedAt:   at("10:13:00"),
			DetectedBy:   "AWS attached AWSCompromisedKeyQuarantineV3",
			ContainedAt:  at("12:27:00"),
			RevokedAt:    at("12:28:10"),
			Since:        time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC),
			Until:        at("13:00:00"),
			GeneratedAt:  at("13:05:00"),
			ToolVersion:  "v0.1.0-test",
			ResponderARN: responder,
		},
		Events: slices.Values(evs),
		Keys: []DerivedKey{
			{AccessKeyID: leakedKey, Principal: "arn:aws:iam::111122223333:user/deploy-bot", Status: "inactive"},
			{AccessKeyID: sessionKey, ParentKeyID: leakedKey, Via: "GetSessionToken", EventID: "0a6c8a52-0006-4a1e-9d6e-000000000006",
				IssuedAt: at("10:21:00"), ExpiresAt: at("10:21:00").Add(24 * time.Hour), Principal: "arn:aws:iam::111122223333:user/deploy-bot",
				Region: "us-east-1", Status: "revoked"},
			{AccessKeyID: backdoorKey, ParentKeyID: leakedKey, Via: "CreateAccessKey", EventID: "0a6c8a52-0005-4a1e-9d6e-000000000005",
				IssuedAt: at("10:19:30"), Principal: "arn:aws:iam::111122223333:user/svc-backup", Status: "deleted"},
		},
		Actions: []Action{
			{Seq: 1, Time: at("12:26:50"), Step: "identify", Action: "sts:GetCallerIdentity", Target: responder, Actor: responder, Result: ResultOK},
			{Seq: 2, Time: at("12:27:00"), Step: "contain", Action: "iam:UpdateAccessKey", Target: leakedKey + " Inactive", Actor: responder, Result: ResultOK},
			{Seq: 3, Time: at("12:28:10"), Step: "revoke", Action: "iam:PutUserPolicy", Target: "deploy-bot", Actor: responder, Result: ResultOK, Detail: "deny aws:TokenIssueTime < 2024-05-01T12:28:10Z"},
			{Seq: 4, Time: at("12:35:00"), Step: "investigate", Action: "cloudtrail:LookupEvents", Target: "all regions", Actor: responder, Result: ResultOK},
			{Seq: 5, Time: at("12:50:00"), Step: "eradicate", Action: "iam:DeleteAccessKey", Target: backdoorKey, Actor: responder, Result: ResultOK},
			{Seq: 6, Time: at("12:50:05"), Step: "eradicate", Action: "iam:DeleteUser", Target: "svc-backup", Actor: responder, Result: ResultFailed, Error: "DeleteConflict: user has attached policies"},
			{Seq: 7, Time: at("12:52:00"), Step: "eradicate", Action: "ec2:TerminateInstances", Target: "i-0a1b2c3d4e5f67890", Actor: responder, Result: ResultOK},
		},
		Resources: []Resource{
			{Type: "AWS::IAM::User", ID: "svc-backup", CreatedAt: at("10:19:12"), CreatedBy: leakedKey, CreatedByEvent: "0a6c8a52-0004-4a1e-9d6e-000000000004", State: StatePresent, Removal: "iam:DeleteUser", Verdict: VerdictAttacker},
			{Type: "AWS::IAM::AccessKey", ID: backdoorKey, CreatedAt: at("10:19:30"), CreatedBy: leakedKey, CreatedByEvent: "0a6c8a52-0005-4a1e-9d6e-000000000005", State: StateRemoved, Removal: "iam:DeleteAccessKey", RemovedAt: at("12:50:00"), Verdict: VerdictAttacker},
			{Type: "AWS::EC2::Instance", ID: "i-0a1b2c3d4e5f67890", Region: "ap-southeast-1", CreatedAt: at("10:25:10"), CreatedBy: sessionKey, CreatedByEvent: "0a6c8a52-0007-4a1e-9d6e-000000000007", State: StateRemoved, Removal: "ec2:TerminateInstances", RemovedAt: at("12:52:00"), Verdict: VerdictAttacker},
			{Type: "AWS::EC2::SecurityGroup", ID: "sg-0123456789abcdef0", Region: "ap-southeast-1", CreatedAt: at("10:25:05"), CreatedBy: sessionKey, State: StatePresent, Removal: "ec2:DeleteSecurityGroup", Status: "sg-0123456789abcdef0 (launch-wizard-1)", Verdict: VerdictAttacker},
		},
		Coverage: []Coverage{
			{Region: "us-east-1", Source: SourceLookupEvents, Status: CoverageOK, Events: 6, Pages: 1},
			{Region: "ap-northeast-1", Source: SourceLookupEvents, Status: CoverageOK, Events: 2, Pages: 1},
			{Region: "ap-southeast-1", Source: SourceLookupEvents, Status: CoverageOK, Events: 2, Pages: 1},
			{Region: "sa-east-1", Source: SourceLookupEvents, Status: CoverageOK, Events: 1, Pages: 1},
			{Region: "eu-west-1", Source: SourceLookupEvents, Status: CoverageOK, Pages: 1},
			{Region: "me-south-1", Source: SourceLookupEvents, Status: CoverageNotEnabled},
			{Region: "ap-south-2", Source: SourceLookupEvents, Status: CoverageFailed, Pages: 3, Throttles: 8, Error: "ThrottlingException after 8 retries"},
		},
		GuardDuty: GuardDuty{Checked: true, EnabledRegions: []string{"ap-northeast-1"}, DisabledRegions: []string{"us-east-1", "ap-southeast-1"}},
		Findings: []Finding{
			{ID: "a2c7f0000000000000000000000000f1", Region: "ap-northeast-1", Type: "UnauthorizedAccess:IAMUser/MaliciousIPCaller", Severity: 5,
				Title: "API GetCallerIdentity was invoked from a known malicious IP address.", Resource: leakedKey,
				FirstSeen: at("10:17:03"), LastSeen: at("10:18:40"), Count: 2},
		},
		Hygiene: []HygieneItem{
			{Check: "administrator-key", Severity: "high", Subjects: []string{"ops-admin/AKIAOPSADMIN0000001"}},
			{Check: "two-active-keys", Severity: "medium", Subjects: []string{"ci-deploy", "reports"}},
		},
		HygieneAt:       at("11:00:00"),
		ResourcesReadAt: at("13:04:00"),
		Bill: &Bill{
			At: at("12:55:00"),
			Lines: []CostLine{
				{Type: "AWS::EC2::Instance", ID: "i-0a1b2c3d4e5f67890", Region: "ap-southeast-1", InstanceType: "p3.2xlarge",
					Start: at("10:25:10"), End: at("12:52:00"), HourlyUSD: 4.234, PriceSource: PriceList, PriceRegion: "ap-southeast-1",
					Hours: 2.4472, CostUSD: 10.3616},
				{Type: "AWS::EC2::Instance", ID: "i-0fedcba9876543210", Region: "sa-east-1", InstanceType: "c5.4xlarge",
					Start: at("10:26:00"), Present: true, HourlyUSD: 1.048, PriceSource: PriceList, PriceRegion: "sa-east-1",
					Hours: 2.4833, CostUSD: 2.6025},
			},
			PresentHourlyUSD: 1.048, PresentCount: 1, PresentCostUSD: 2.6025,
			RemovedHourlyUSD: 4.234, RemovedCount: 1, RemovedCostUSD: 10.3616,
			PriceSource: PriceList,
			Spend: &Spend{Start: "2024-05-01", End: "2024-05-02", TotalUSD: 13.21, Estimated: true, Lines: []SpendLine{
				{Service: "Amazon Elastic Compute Cloud - Compute", Region: "ap-southeast-1", AmountUSD: 10.36},
				{Service: "Amazon Elastic Compute Cloud - Compute", Region: "sa-east-1", AmountUSD: 2.85},
			}},
		},
		Secrets: []SecretRead{
			{Kind: "secretsmanager-secret", Name: "prod/payments/api-key", Region: "us-east-1", Reads: []SecretAccess{
				{Time: at("10:22:05"), EventID: "0a6c8a52-0099-4a1e-9d6e-000000000099", EventName: "GetSecretValue",
					SourceIP: "45.155.205.233", AccessKeyID: sessionKey, Verdict: VerdictAttacker}}},
		},
	}
}
