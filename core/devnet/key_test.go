package devnet

import "crypto/ecdsa"

type ecdsaKey = ecdsa.PrivateKey
