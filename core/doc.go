// Package core holds the one pipeline every signature goes through —
// prepare → simulate → scan → policy → (approve) → sign → submit — and the
// small interfaces its stages implement.
//
// The pipeline is pure orchestration: it knows no chain, no RPC endpoint and
// no key. Each stage is injected. core/txn prepares transactions, core/submit
// broadcasts and journals them, the signer is any sdk.Signer (in the CLI a
// plugin client, so keys never enter this process). Simulation, scanning,
// policy and approval get allow-all defaults here and real implementations
// in their own packages.
//
// The pipeline's promise is transactional: when any stage fails, nothing is
// broadcast, nothing is journaled and no nonce is consumed. The only
// exception is a broadcast whose outcome the node left ambiguous (the request
// may have arrived): then the nonce stays taken and the transaction is
// journaled as "unknown", because sending a different transaction for that
// nonce could double-spend.
package core
