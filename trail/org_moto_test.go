package trail

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/keyleak/keyleak/internal/mototest"
)

// TestListOrganizationAgainstMoto checks ListOrganization (paging, error
// codes) against moto, an emulator written independently of the simulator.
func TestListOrganizationAgainstMoto(t *testing.T) {
	m := mototest.Start(t)
	ctx := context.Background()
	cfg := m.Config("AKIAIOSFODNN7EXAMPLE", "secret", "eu-west-1")
	if _, _, err := ListOrganization(ctx, cfg); err == nil {
		t.Fatal("DescribeOrganization answered before an organization exists")
	}
	org := organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Region = "us-east-1" })
	created, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatal(err)
	}
	const members = 23 // with the management account, more than one page of 20
	for i := range members {
		if _, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprintf("member-%02d", i)),
			Email: aws.String(fmt.Sprintf("m%02d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	info, listErr, err := ListOrganization(ctx, cfg)
	if err != nil || listErr != nil {
		t.Fatal(err, listErr)
	}
	if info.ID != aws.ToString(created.Organization.Id) || info.Master != aws.ToString(created.Organization.MasterAccountId) {
		t.Errorf("organization %s/%s, want %+v", info.ID, info.Master, *created.Organization)
	}
	seen := map[string]bool{}
	for _, a := range info.Accounts {
		if len(a.ID) != 12 || seen[a.ID] {
			t.Errorf("account %+v malformed or repeated", a)
		}
		seen[a.ID] = true
	}
	if len(seen) != members+1 {
		t.Errorf("%d accounts, want %d", len(seen), members+1)
	}
}
