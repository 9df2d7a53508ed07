package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/coretest"
	"github.com/mm-wallet/mm/sdk"
)

type fixedPolicy struct{ d core.Decision }

func (p fixedPolicy) Evaluate(context.Context, *core.PolicyInput) (*core.Decision, error) {
	d := p.d
	return &d, nil
}

type approver struct{ yes bool }

func (a approver) Approve(context.Context, *core.ApprovalRequest) (*core.Approval, error) {
	return &core.Approval{Approved: a.yes, Method: "test"}, nil
}

// memJobs is an in-memory JobStore, enough to watch the pipeline record its
// runs; core/jobs provides the real one.
type memJobs struct {
	mu   sync.Mutex
	jobs map[string]*core.Job
}

func (m *memJobs) Create(_ context.Context, j *core.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *j
	m.jobs[j.ID] = &c
	return nil
}

func (m *memJobs) Get(_ context.Context, id string) (*core.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, errors.New("no job")
	}
	c := *j
	return &c, nil
}

func (m *memJobs) Update(_ context.Context, id string, fn func(*core.Job) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn(m.jobs[id])
}

func (m *memJobs) List(context.Context, *core.JobFilter) ([]*core.Job, error) { return nil, nil }

// TestPolicyOutcomes checks the checking stages' contract: deny and an
// unapproved "ask" stop the run before signing and give the nonce back;
// an approved "ask" goes through; every run is recorded as a job.
func TestPolicyOutcomes(t *testing.T) {
	t.Parallel()
	s := coretest.NewKeySigner("core test policy")
	if err := node.Fund(context.Background(), s.Address()); err != nil {
		t.Fatal(err)
	}
	e := coretest.NewEnv(t, node, coretest.EnvOptions{Signer: s})
	jobs := &memJobs{jobs: map[string]*core.Job{}}
	tr := &core.Transfer{To: bob.Hex(), Amount: "0.01", Token: "ETH"}
	cases := []struct {
		name   string
		policy core.Policy
		appr   core.Approver
		code   sdk.Code
		status core.JobStatus
	}{
		{"deny", fixedPolicy{core.Decision{Outcome: core.Deny, Reasons: []string{"outside allowlist"}}}, nil, core.CodeTxDenied, core.JobDenied},
		{"ask without approver", fixedPolicy{core.Decision{Outcome: core.Ask}}, nil, core.CodeApprovalRequired, core.JobFailed},
		{"ask declined", fixedPolicy{core.Decision{Outcome: core.Ask}}, approver{false}, core.CodeTxDenied, core.JobDenied},
		{"ask approved", fixedPolicy{core.Decision{Outcome: core.Ask}}, approver{true}, "", core.JobConfirmed},
	}
	for _, c := range cases {
		p := &core.Pipeline{Preparer: e.Preparer, Signer: s, Submitter: e.Submitter, Policy: c.policy, Approver: c.appr, Jobs: jobs}
		res, err := p.Run(context.Background(), &core.Request{ChainID: e.ChainID(), Account: s.Account(), Transfer: tr, Wait: true})
		if sdk.CodeOf(err) != c.code {
			t.Fatalf("%s: err %v, want %q", c.name, err, c.code)
		}
		if c.code != "" {
			if s.Signed() != 0 {
				t.Fatalf("%s: signed", c.name)
			}
			if l := ledger(t, e, s.Address()); len(l.Reserved) != 0 || l.Next != 0 {
				t.Fatalf("%s: ledger %+v", c.name, l)
			}
		} else if res.Nonce != 0 || res.Decision.Outcome != core.Ask {
			t.Errorf("%s: nonce %d decision %+v", c.name, res.Nonce, res.Decision)
		}
		var last *core.Job
		for _, j := range jobs.jobs {
			if last == nil || j.CreatedAt.After(last.CreatedAt) || j.Status == c.status {
				last = j
			}
		}
		if last == nil || last.Status != c.status {
			t.Errorf("%s: job %+v, want status %s", c.name, last, c.status)
		}
		for k := range jobs.jobs {
			delete(jobs.jobs, k)
		}
	}
}
