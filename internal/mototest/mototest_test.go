package mototest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestStartAnswersSTS(t *testing.T) {
	srv := Start(t)
	client := sts.NewFromConfig(srv.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1"))
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity against moto: %v", err)
	}
	if out.Account == nil || len(*out.Account) != 12 {
		t.Errorf("account = %v, want a 12-digit ID", out.Account)
	}
}
