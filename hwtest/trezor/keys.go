package trezor

// DefaultMnemonic is SLIP-14's test seed, the one Trezor's own Ethereum
// fixtures use. It is public: never hold funds with it.
const DefaultMnemonic = "all all all all all all all all all all all all"
