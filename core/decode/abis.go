package decode

import (
	"fmt"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// family groups functions by the standard they come from; intents use it.
type family string

const (
	famERC20      family = "erc20"
	famERC721     family = "erc721"
	famERC1155    family = "erc1155"
	famNFT        family = "nft" // setApprovalForAll: ERC-721 and ERC-1155 alike
	famWETH       family = "weth"
	famPermit2    family = "permit2"
	famMulticall3 family = "multicall3"
	famUser       family = "user"
)

type def struct {
	fam    family
	name   string
	inputs []abi.ArgumentMarshaling
}

func arg(name, typ string, comps ...abi.ArgumentMarshaling) abi.ArgumentMarshaling {
	return abi.ArgumentMarshaling{Name: name, Type: typ, Components: comps}
}

func fn(f family, name string, inputs ...abi.ArgumentMarshaling) def {
	return def{fam: f, name: name, inputs: inputs}
}

var permitDetails = []abi.ArgumentMarshaling{
	arg("token", "address"), arg("amount", "uint160"), arg("expiration", "uint48"), arg("nonce", "uint48"),
}

// builtins are the ABIs mm decodes without help. Where two standards share
// a selector (ERC-20 and ERC-721 transferFrom/approve) one entry serves both
// and the intent picks the wording from the chain registry.
var builtins = []def{
	fn(famERC20, "transfer", arg("to", "address"), arg("amount", "uint256")),
	fn(famERC20, "approve", arg("spender", "address"), arg("amount", "uint256")),
	fn(famERC20, "transferFrom", arg("from", "address"), arg("to", "address"), arg("amount", "uint256")),
	fn(famERC20, "increaseAllowance", arg("spender", "address"), arg("addedValue", "uint256")),
	fn(famERC20, "decreaseAllowance", arg("spender", "address"), arg("subtractedValue", "uint256")),
	fn(famERC20, "permit", arg("owner", "address"), arg("spender", "address"), arg("value", "uint256"), arg("deadline", "uint256"), arg("v", "uint8"), arg("r", "bytes32"), arg("s", "bytes32")),

	fn(famERC721, "safeTransferFrom", arg("from", "address"), arg("to", "address"), arg("tokenId", "uint256")),
	fn(famERC721, "safeTransferFrom", arg("from", "address"), arg("to", "address"), arg("tokenId", "uint256"), arg("data", "bytes")),
	fn(famNFT, "setApprovalForAll", arg("operator", "address"), arg("approved", "bool")),

	fn(famERC1155, "safeTransferFrom", arg("from", "address"), arg("to", "address"), arg("id", "uint256"), arg("amount", "uint256"), arg("data", "bytes")),
	fn(famERC1155, "safeBatchTransferFrom", arg("from", "address"), arg("to", "address"), arg("ids", "uint256[]"), arg("amounts", "uint256[]"), arg("data", "bytes")),

	fn(famWETH, "deposit"),
	fn(famWETH, "withdraw", arg("wad", "uint256")),

	fn(famPermit2, "approve", arg("token", "address"), arg("spender", "address"), arg("amount", "uint160"), arg("expiration", "uint48")),
	fn(famPermit2, "permit", arg("owner", "address"),
		arg("permitSingle", "tuple", arg("details", "tuple", permitDetails...), arg("spender", "address"), arg("sigDeadline", "uint256")),
		arg("signature", "bytes")),
	fn(famPermit2, "permit", arg("owner", "address"),
		arg("permitBatch", "tuple", arg("details", "tuple[]", permitDetails...), arg("spender", "address"), arg("sigDeadline", "uint256")),
		arg("signature", "bytes")),
	fn(famPermit2, "transferFrom", arg("from", "address"), arg("to", "address"), arg("amount", "uint160"), arg("token", "address")),
	fn(famPermit2, "transferFrom", arg("transferDetails", "tuple[]", arg("from", "address"), arg("to", "address"), arg("amount", "uint160"), arg("token", "address"))),

	fn(famMulticall3, "aggregate", arg("calls", "tuple[]", arg("target", "address"), arg("callData", "bytes"))),
	fn(famMulticall3, "tryAggregate", arg("requireSuccess", "bool"), arg("calls", "tuple[]", arg("target", "address"), arg("callData", "bytes"))),
	fn(famMulticall3, "blockAndAggregate", arg("calls", "tuple[]", arg("target", "address"), arg("callData", "bytes"))),
	fn(famMulticall3, "tryBlockAndAggregate", arg("requireSuccess", "bool"), arg("calls", "tuple[]", arg("target", "address"), arg("callData", "bytes"))),
	fn(famMulticall3, "aggregate3", arg("calls", "tuple[]", arg("target", "address"), arg("allowFailure", "bool"), arg("callData", "bytes"))),
	fn(famMulticall3, "aggregate3Value", arg("calls", "tuple[]", arg("target", "address"), arg("allowFailure", "bool"), arg("value", "uint256"), arg("callData", "bytes"))),
}

type method struct {
	fam family
	m   abi.Method
}

func buildMethod(d def) (method, error) {
	args := make(abi.Arguments, 0, len(d.inputs))
	for _, in := range d.inputs {
		t, err := abi.NewType(in.Type, "", in.Components)
		if err != nil {
			return method{}, fmt.Errorf("decode: %s: type %s: %w", d.name, in.Type, err)
		}
		args = append(args, abi.Argument{Name: in.Name, Type: t})
	}
	return method{fam: d.fam, m: abi.NewMethod(d.name, d.name, abi.Function, "nonpayable", false, false, args, nil)}, nil
}
