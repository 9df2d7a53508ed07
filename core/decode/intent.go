package decode

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/core"
	"github.com/mm-wallet/mm/core/chains"
)

var (
	maxUint256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	maxUint160 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))
	// unlimitedFloor: amounts this large are "unlimited" in practice (2^255
	// and up is what wallets and dapps use for infinite approvals).
	unlimitedFloor = new(big.Int).Lsh(big.NewInt(1), 255)
)

// describe sets c.Intent and c.Risk (and c.Calls for batches).
func (d *Decoder) describe(c *core.Call, m method, to common.Address, value *big.Int, v []any, depth int) {
	tok, known := d.chain.TokenByAddress(to)
	amt := func(x *big.Int) string { return d.amount(tok, known, to, x) }
	c.Risk = core.RiskLow
	switch m.fam {
	case famERC20:
		switch m.m.RawName {
		case "transfer":
			c.Intent = fmt.Sprintf("Transfer %s to %s", amt(big_(v[1])), addr(v[0]))
		case "approve":
			c.Intent, c.Risk = d.approval(tok, known, to, addr(v[0]), big_(v[1]), maxUint256)
		case "transferFrom":
			if known {
				c.Intent = fmt.Sprintf("Transfer %s from %s to %s", amt(big_(v[2])), addr(v[0]), addr(v[1]))
			} else {
				c.Intent = fmt.Sprintf("Transfer token amount or NFT #%s of %s from %s to %s", big_(v[2]), d.name(to), addr(v[0]), addr(v[1]))
			}
			c.Risk = core.RiskMedium
		case "increaseAllowance":
			c.Intent = fmt.Sprintf("Increase the allowance of %s by %s", addr(v[0]), amt(big_(v[1])))
			c.Risk = core.RiskMedium
			if big_(v[1]).Cmp(unlimitedFloor) >= 0 {
				c.Intent = fmt.Sprintf("Increase the allowance of %s to UNLIMITED %s", addr(v[0]), d.symbol(tok, known, to))
				c.Risk = core.RiskHigh
			}
		case "decreaseAllowance":
			c.Intent = fmt.Sprintf("Decrease the allowance of %s by %s", addr(v[0]), amt(big_(v[1])))
		case "permit":
			what, risk := d.approval(tok, known, to, addr(v[1]), big_(v[2]), maxUint256)
			c.Intent = fmt.Sprintf("Submit a signed permit from %s: %s", addr(v[0]), lowerFirst(what))
			c.Risk = risk
		}
	case famERC721:
		c.Intent = fmt.Sprintf("Transfer NFT #%s of %s from %s to %s", big_(v[2]), d.collection(tok, known, to), addr(v[0]), addr(v[1]))
		c.Risk = core.RiskMedium
	case famERC1155:
		if m.m.RawName == "safeBatchTransferFrom" {
			c.Intent = fmt.Sprintf("Transfer %d token types of %s from %s to %s", reflect.ValueOf(v[2]).Len(), d.name(to), addr(v[0]), addr(v[1]))
		} else {
			c.Intent = fmt.Sprintf("Transfer %s of token #%s of %s from %s to %s", big_(v[3]), big_(v[2]), d.name(to), addr(v[0]), addr(v[1]))
		}
		c.Risk = core.RiskMedium
	case famNFT:
		if b, _ := v[1].(bool); b {
			c.Intent = fmt.Sprintf("Approve ALL tokens of %s for %s", d.collection(tok, known, to), addr(v[0]))
			c.Risk = core.RiskHigh
		} else {
			c.Intent = fmt.Sprintf("Revoke %s's approval for all tokens of %s", addr(v[0]), d.collection(tok, known, to))
		}
	case famWETH:
		if m.m.RawName == "deposit" {
			c.Intent = fmt.Sprintf("Wrap %s %s into %s", chains.FormatUnits(value, d.chain.NativeDecimals), d.chain.NativeSymbol, d.symbol(tok, known, to))
		} else {
			c.Intent = fmt.Sprintf("Unwrap %s", amt(big_(v[0])))
		}
	case famPermit2:
		d.permit2(c, m, v)
	case famMulticall3:
		d.multicall(c, m, v, depth)
	case famUser:
		c.Intent = fmt.Sprintf("Call %s on %s", m.m.Sig, d.name(to))
		c.Risk = core.RiskMedium
	}
	c.Intent += d.sending(value)
	if value != nil && value.Sign() > 0 && m.fam != famWETH && c.Risk == core.RiskLow {
		c.Risk = core.RiskMedium
	}
}

// approval words an ERC-20 (or ERC-721: same selector) approval.
func (d *Decoder) approval(tok chains.Token, known bool, contract common.Address, spender string, v, max *big.Int) (string, core.Risk) {
	sym := d.symbol(tok, known, contract)
	switch {
	case v.Sign() == 0:
		return fmt.Sprintf("Revoke %s allowance of %s", sym, spender), core.RiskLow
	case v.Cmp(max) == 0 || v.Cmp(unlimitedFloor) >= 0:
		return fmt.Sprintf("Approve UNLIMITED %s for %s", sym, spender), core.RiskHigh
	case !known:
		return fmt.Sprintf("Approve %s to spend %s units (or NFT #%s) of %s", spender, v, v, d.name(contract)), core.RiskMedium
	default:
		return fmt.Sprintf("Approve %s %s for %s", chains.FormatUnits(v, tok.Decimals), sym, spender), core.RiskMedium
	}
}

func (d *Decoder) permit2(c *core.Call, m method, v []any) {
	c.Risk = core.RiskMedium
	switch {
	case m.m.RawName == "approve":
		token := v[0].(common.Address)
		t, k := d.chain.TokenByAddress(token)
		what, risk := d.approval(t, k, token, addr(v[1]), big_(v[2]), maxUint160)
		c.Intent = "Permit2: " + lowerFirst(what) + expires(big_(v[3]))
		c.Risk = risk
	case m.m.RawName == "permit" && len(v) == 3:
		st := reflect.ValueOf(v[1])
		spender := addr(field(st, "Spender"))
		details := reflect.ValueOf(field(st, "Details"))
		if details.Kind() == reflect.Slice {
			var parts []string
			risk := core.RiskMedium
			for i := 0; i < details.Len(); i++ {
				p, r := d.permitDetail(details.Index(i), spender)
				parts = append(parts, p)
				if r == core.RiskHigh {
					risk = r
				}
			}
			c.Intent = "Permit2 batch permit: " + strings.Join(parts, "; ")
			c.Risk = risk
		} else {
			p, r := d.permitDetail(details, spender)
			c.Intent = "Permit2 permit: " + p
			c.Risk = r
		}
	case m.m.RawName == "transferFrom" && len(v) == 4:
		token := v[3].(common.Address)
		t, k := d.chain.TokenByAddress(token)
		c.Intent = fmt.Sprintf("Permit2: transfer %s from %s to %s", d.amount(t, k, token, big_(v[2])), addr(v[0]), addr(v[1]))
	case m.m.RawName == "transferFrom":
		c.Intent = fmt.Sprintf("Permit2: %d transfers", reflect.ValueOf(v[0]).Len())
	}
}

func (d *Decoder) permitDetail(det reflect.Value, spender string) (string, core.Risk) {
	token := field(det, "Token").(common.Address)
	t, k := d.chain.TokenByAddress(token)
	what, risk := d.approval(t, k, token, spender, big_(field(det, "Amount")), maxUint160)
	return lowerFirst(what) + expires(big_(field(det, "Expiration"))), risk
}

func (d *Decoder) multicall(c *core.Call, m method, v []any, depth int) {
	calls := reflect.ValueOf(v[len(v)-1])
	c.Risk = core.RiskLow
	var parts []string
	for i := 0; i < calls.Len(); i++ {
		call := calls.Index(i)
		target := field(call, "Target").(common.Address)
		data, _ := field(call, "CallData").([]byte)
		var val *big.Int
		if f := call.FieldByName("Value"); f.IsValid() {
			val = big_(f.Interface())
		}
		var inner *core.Call
		if depth+1 >= maxDepth {
			inner = &core.Call{FunctionName: "unknown", Params: []core.Param{}, Intent: "Call " + target.Hex() + " (nested too deep to decode)", Risk: core.RiskHigh}
		} else {
			inner = d.decode(&target, val, data, depth+1)
		}
		c.Calls = append(c.Calls, inner)
		parts = append(parts, inner.Intent)
		c.Risk = maxRisk(c.Risk, inner.Risk)
	}
	c.Intent = fmt.Sprintf("Multicall of %d calls: %s", calls.Len(), strings.Join(parts, "; "))
}

func (d *Decoder) amount(tok chains.Token, known bool, contract common.Address, v *big.Int) string {
	if contract == noTarget {
		return fmt.Sprintf("%s token units", v)
	}
	if !known {
		return fmt.Sprintf("%s units of token %s", v, contract.Hex())
	}
	return chains.FormatUnits(v, tok.Decimals) + " " + tok.Symbol
}

func (d *Decoder) symbol(tok chains.Token, known bool, contract common.Address) string {
	if known {
		return tok.Symbol
	}
	if contract == noTarget {
		return "the called token"
	}
	return "token " + contract.Hex()
}

func (d *Decoder) collection(tok chains.Token, known bool, contract common.Address) string {
	if known {
		return tok.Symbol
	}
	return "collection " + d.name(contract)
}

func expires(t *big.Int) string {
	if t.Sign() == 0 {
		return ""
	}
	return fmt.Sprintf(" (expires at unix time %s)", t)
}

func maxRisk(a, b core.Risk) core.Risk {
	rank := map[core.Risk]int{core.RiskLow: 0, core.RiskMedium: 1, core.RiskHigh: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func addr(v any) string {
	if a, ok := v.(common.Address); ok {
		return a.Hex()
	}
	return fmt.Sprint(v)
}

func big_(v any) *big.Int {
	switch x := v.(type) {
	case *big.Int:
		return x
	case uint8:
		return new(big.Int).SetUint64(uint64(x))
	case uint16:
		return new(big.Int).SetUint64(uint64(x))
	case uint32:
		return new(big.Int).SetUint64(uint64(x))
	case uint64:
		return new(big.Int).SetUint64(x)
	}
	return new(big.Int)
}

// field reads a struct field of a decoded tuple by Go name.
func field(v any, name string) any {
	rv, ok := v.(reflect.Value)
	if !ok {
		rv = reflect.ValueOf(v)
	}
	f := rv.FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return f.Interface()
}
