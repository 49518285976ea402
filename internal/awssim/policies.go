package awssim

import (
	"encoding/json"
	"time"
)

// quarantineV1Actions is what AWS's first quarantine policy denies.
var quarantineV1Actions = []string{
	"ec2:RequestSpotInstances", "ec2:RunInstances", "ec2:StartInstances",
	"iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:ChangePassword",
	"iam:CreateAccessKey", "iam:CreateInstanceProfile", "iam:CreateLoginProfile", "iam:CreateRole",
	"iam:CreateUser", "iam:DetachUserPolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy",
	"iam:UpdateAccessKey", "iam:UpdateAccountPasswordPolicy", "iam:UpdateUser",
	"lambda:CreateFunction", "lightsail:Create*", "lightsail:Delete*",
	"lightsail:DownloadDefaultKeyPair", "lightsail:GetInstanceAccessDetails",
	"lightsail:Start*", "lightsail:Update*", "organizations:CreateAccount",
	"organizations:CreateOrganization", "organizations:InviteAccountToOrganization",
	"s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
	"s3:PutBucketAcl", "s3:PutBucketOwnershipControls", "s3:DeleteBucketPolicy",
	"s3:ObjectOwnerOverrideToBucketOwner", "s3:PutAccountPublicAccessBlock",
	"s3:PutBucketPolicy", "s3:ListAllMyBuckets",
}

// quarantineV2Extra is what V2 adds: investigation with the leaked key
// (cloudtrail:LookupEvents) and the resource-hijacking services of later
// campaigns.
var quarantineV2Extra = []string{
	"amplify:CreateBackendEnvironment", "amplify:CreateDeployment",
	"bedrock:CreateFoundationModelAgreement", "bedrock:CreateModelInvocationJob",
	"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream",
	"bedrock:PutFoundationModelEntitlement", "cloudtrail:LookupEvents",
	"codebuild:CreateProject", "ec2:AcceptReservedInstancesExchangeQuote",
	"ec2:CreateReservedInstancesListing", "ec2:PurchaseReservedInstancesOffering",
	"ecr:GetAuthorizationToken", "ecs:CreateCluster", "ecs:CreateService",
	"ecs:RegisterTaskDefinition", "glue:CreateDevEndpoint", "glue:UpdateDevEndpoint",
	"iam:CreatePolicyVersion", "iam:PassRole", "iam:PutGroupPolicy", "iam:PutRolePolicy",
	"iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy", "iam:UpdateLoginProfile",
	"lambda:AddLayerVersionPermission", "lambda:AddPermission", "lambda:UpdateFunctionCode",
	"lambda:UpdateFunctionConfiguration", "mediapackagev2:CreateChannel",
	"sagemaker:CreateNotebookInstance", "sagemaker:CreateProcessingJob",
	"sagemaker:CreateTrainingJob", "savingsplans:CreateSavingsPlan",
	"ses:CreateEmailIdentity", "ses:SendEmail", "ses:SendRawEmail", "ses:UpdateAccountSendingEnabled",
	"sns:Publish", "sts:GetFederationToken",
}

// quarantineV3Extra is what V3 adds: reading S3 data with the leaked key.
var quarantineV3Extra = []string{"s3:GetObject", "s3:ListBucket", "s3:PutObject"}

// QuarantinePolicyNames are the AWS managed quarantine policies the simulator
// has, oldest first. AWS attaches the newest to a user whose key it found
// exposed.
var QuarantinePolicyNames = []string{
	"AWSCompromisedKeyQuarantine", "AWSCompromisedKeyQuarantineV2", "AWSCompromisedKeyQuarantineV3",
}

func denyDoc(actions []string) string {
	doc := map[string]any{
		"Version":   "2012-10-17",
		"Statement": []map[string]any{{"Effect": "Deny", "Action": actions, "Resource": "*"}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func allowDoc(actions ...string) string {
	doc := map[string]any{
		"Version":   "2012-10-17",
		"Statement": []map[string]any{{"Effect": "Allow", "Action": actions, "Resource": "*"}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// awsManagedPolicies returns the AWS managed policies every account has (the
// few the simulator needs).
func awsManagedPolicies() []*ManagedPolicy {
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	mk := func(name, id, doc string) *ManagedPolicy {
		return &ManagedPolicy{ARN: "arn:aws:iam::aws:policy/" + name, Name: name, ID: id, Path: "/", Document: doc, Created: created}
	}
	v2 := append(append([]string{}, quarantineV1Actions...), quarantineV2Extra...)
	v3 := append(append([]string{}, v2...), quarantineV3Extra...)
	return []*ManagedPolicy{
		mk("AdministratorAccess", "ANPAIWMBCKSKIEE64ZLYK", allowDoc("*")),
		mk("PowerUserAccess", "ANPAJYRXTHIB4FOVS3ZXS", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`),
		mk("IAMFullAccess", "ANPAI7XKCFMBPM3QQRRVQ", allowDoc("iam:*")),
		mk("ReadOnlyAccess", "ANPAILL3HVNFSB6DCOWYQ", allowDoc("*:Describe*", "*:Get*", "*:List*")),
		mk("AmazonEC2FullAccess", "ANPAI3VAJF5ZCRZ7MCQE6", allowDoc("ec2:*")),
		mk("AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M", allowDoc("s3:Get*", "s3:List*")),
		mk("AWSCompromisedKeyQuarantine", "ANPAZKAPJZG4BT2KNYKHA", denyDoc(quarantineV1Actions)),
		mk("AWSCompromisedKeyQuarantineV2", "ANPAZKAPJZG4LRQTK3SZD", denyDoc(v2)),
		mk("AWSCompromisedKeyQuarantineV3", "ANPAZKAPJZG4BMEZNFV6E", denyDoc(v3)),
	}
}
