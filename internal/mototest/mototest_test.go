package mototest

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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

// Under Main, tests share one server and each finds it empty.
func TestSharedServerIsResetForEachTest(t *testing.T) {
	shared.Lock()
	shared.on = true // as Main does
	shared.Unlock()
	t.Cleanup(func() {
		shared.Lock()
		defer shared.Unlock()
		if shared.p != nil {
			shared.p.stop()
			shared.p = nil
		}
		os.RemoveAll(shared.dir)
		shared.dir, shared.on = "", false
	})
	var first string
	t.Run("first", func(t *testing.T) {
		srv := Start(t)
		first = srv.URL
		if _, err := iam.NewFromConfig(srv.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1")).CreateUser(context.Background(),
			&iam.CreateUserInput{UserName: aws.String("left-behind")}); err != nil {
			t.Fatal(err)
		}
		// Held by this test: another one meanwhile would get a server of
		// its own (not started here: it costs seconds).
		if other, ok := takeShared(t, "moto_server"); ok {
			t.Errorf("a second Start during the test got the held server %s", other.URL)
		}
	})
	t.Run("second", func(t *testing.T) {
		srv := Start(t)
		if srv.URL != first {
			t.Errorf("second test got %s, want the shared %s", srv.URL, first)
		}
		out, err := iam.NewFromConfig(srv.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Users) != 0 {
			t.Errorf("the shared server was not reset: users %v", out.Users)
		}
	})
}
