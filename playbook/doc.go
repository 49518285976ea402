// Package playbook is keyleak's containment runbook: the case directory, the
// hash-chained journal, the declared steps and the runner that executes them.
//
// A responder's session goes like this (the CLI and the TUI do the same):
//
//	if err := playbook.ValidateKeyID(key); err != nil { … }           // usage error
//	c, created, err := playbook.OpenOrCreateCase(".", key, time.Now()) // or OpenCase(dir) for --case
//	defer c.Close()
//	r := playbook.NewRunner(c, iam.NewFromConfig(cfg), sts.NewFromConfig(cfg),
//		playbook.WithResponderKeyID(creds.AccessKeyID),
//		playbook.WithConfirm(ask), // omit for --yes on non-destructive steps
//		playbook.WithDryRun(dryRun), playbook.WithProgress(show))
//	sum, err := r.Run(ctx)                                              // DefaultSteps()
//
// Every AWS call is journaled before (intent) and after (outcome) it is
// made, each entry carrying the SHA-256 of the line before it; Verify checks
// the chain. Re-running on the same case resumes: actions the journal shows
// done are skipped, and an action started but not finished is first checked
// against AWS. Read-only look-ups (identify, scope) run again on every run,
// because their answers may have changed.
//
// Speed matters while a key is live: the three identity calls run at once,
// the key is deactivated in the second round trip (while the other steps'
// read-only look-ups run beside it), and the session revocation policy is put
// in the third.
package playbook
