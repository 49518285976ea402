package awssim

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestIAMTrustPolicyAndMFA covers what an attacker does to keep a way in
// that no key holds: a trust policy admitting its own account, and an MFA
// device of its own on a user; and that service-linked roles are AWS's.
func TestIAMTrustPolicyAndMFA(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	outside := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","arn:aws:iam::999988887777:root"]},"Action":"sts:AssumeRole"}]}`
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust)}))(t)
	f.tick()
	must(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ops"), PolicyDocument: aws.String(outside)}))(t)
	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops")}))(t)
	if dec, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); dec != outside {
		t.Errorf("trust policy after the update: %s", dec)
	}
	jsonEqual(t, "UpdateAssumeRolePolicy requestParameters", f.last("us-east-1", "UpdateAssumeRolePolicy")["requestParameters"],
		`{"roleName":"ops","policyDocument":`+mustJSON(outside)+`}`)
	_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ops"), PolicyDocument: aws.String(`{}`)})
	wantCode(t, err, "MalformedPolicyDocument")

	// Service-linked roles take no policy and no trust change.
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("AWSServiceRoleForX"), Path: aws.String("/aws-service-role/x.amazonaws.com/"),
		AssumeRolePolicyDocument: aws.String(trust)}))(t)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("AWSServiceRoleForX"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)})
	wantCode(t, err, "UnmodifiableEntity")
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("AWSServiceRoleForX"), PolicyDocument: aws.String(trust)})
	wantCode(t, err, "UnmodifiableEntity")

	// An MFA device: made, enabled for a user, listed, deactivated, deleted.
	f.user("alice")
	f.tick()
	dev := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("bk")}))(t)
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	if serial != "arn:aws:iam::123456789012:mfa/bk" || len(dev.VirtualMFADevice.Base32StringSeed) == 0 {
		t.Errorf("CreateVirtualMFADevice = %+v", dev.VirtualMFADevice)
	}
	jsonEqual(t, "CreateVirtualMFADevice responseElements", f.last("us-east-1", "CreateVirtualMFADevice")["responseElements"],
		`{"virtualMFADevice":{"serialNumber":"`+serial+`"}}`)
	// Two consecutive codes of the device enable it; others do not.
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	code := func(at time.Time) *string {
		v, err := TOTP(seed, at)
		if err != nil {
			t.Fatal(err)
		}
		return aws.String(v)
	}
	now := f.clock.Now()
	_, err = c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: code(now), AuthenticationCode2: code(now.Add(-totpStep))})
	wantCode(t, err, "InvalidAuthenticationCode")
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: code(now.Add(-totpStep)), AuthenticationCode2: code(now)}))(t)
	jsonEqual(t, "EnableMFADevice requestParameters", f.last("us-east-1", "EnableMFADevice")["requestParameters"],
		`{"userName":"alice","serialNumber":"`+serial+`"}`)
	list := must(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")}))(t)
	if len(list.MFADevices) != 1 || aws.ToString(list.MFADevices[0].SerialNumber) != serial {
		t.Errorf("ListMFADevices = %+v", list.MFADevices)
	}
	virt := must(c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{}))(t)
	if len(virt.VirtualMFADevices) != 1 || virt.VirtualMFADevices[0].User == nil || aws.ToString(virt.VirtualMFADevices[0].User.UserName) != "alice" {
		t.Errorf("ListVirtualMFADevices = %+v", virt.VirtualMFADevices)
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantCode(t, err, "DeleteConflict")
	must(c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)}))(t)
	_, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)})
	wantCode(t, err, "NoSuchEntity")
	must(c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}))(t)
	if list := must(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("alice")}))(t); len(list.MFADevices) != 0 {
		t.Errorf("ListMFADevices after deletion = %+v", list.MFADevices)
	}
}
