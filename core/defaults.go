package core

import "context"

// NoSimulation is the default Simulator: it simulates nothing and says so.
type NoSimulation struct{}

var _ Simulator = NoSimulation{}

// Simulate implements Simulator.
func (NoSimulation) Simulate(context.Context, *SimulateRequest) (*Simulation, error) {
	return &Simulation{Status: SimulationSkipped}, nil
}

// NoScan is the default Scanner: every transaction is benign.
type NoScan struct{}

var _ Scanner = NoScan{}

// Scan implements Scanner.
func (NoScan) Scan(context.Context, *ScanRequest) (*ScanReport, error) {
	return &ScanReport{Verdict: VerdictBenign}, nil
}

// AllowAll is the default Policy: everything is allowed.
type AllowAll struct{}

var _ Policy = AllowAll{}

// Evaluate implements Policy.
func (AllowAll) Evaluate(context.Context, *PolicyInput) (*Decision, error) {
	return &Decision{Outcome: Allow}, nil
}
