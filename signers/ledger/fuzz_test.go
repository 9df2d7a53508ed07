package ledger

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/mm-wallet/mm/sdk"
)

// fuzzTransport answers every APDU with the same untrusted bytes.
type fuzzTransport struct{ reply []byte }

func (f fuzzTransport) Exchange(context.Context, []byte) ([]byte, error) {
	return append([]byte(nil), f.reply...), nil
}
func (fuzzTransport) Close() error { return nil }

// FuzzDeviceReplies feeds arbitrary device replies to every parser: each
// call must end in a result or a coded error, never a panic.
func FuzzDeviceReplies(f *testing.F) {
	for _, s := range []string{
		"9000", "6985", "010101069000", "0108457468657265756d06312e31392e310100" + "9000",
		"4104ef5b152e3f15eb0c50c9916161c2309e54bd87b9adce722d69716bcdef85f547678e15ab40a78919c7284e67a17ee9a96e8b9886b60f767d93023bac8dbc16e4284461643737393130446244466445373634664332314643443445373444373162424143413644384490",
	} {
		f.Add([]byte(s))
	}
	path := Path{44 | hardened, 60 | hardened, hardened, 0, 0}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, reply []byte) {
		d := NewDevice(fuzzTransport{reply}, "")
		check := func(what string, err error) {
			if err != nil && codeOf(err) == "" {
				t.Fatalf("%s: uncoded error %v", what, err)
			}
		}
		_, err := d.AppAndVersion(ctx)
		check("app and version", err)
		_, err = d.AppConfiguration(ctx)
		check("config", err)
		_, err = d.Address(ctx, path, false, true)
		check("address", err)
		raw, err := d.SignTx(ctx, path, make([]byte, 400), 3, false)
		check("sign tx", err)
		if err == nil {
			_, err = recoverParity(make([]byte, 32), raw, common.Address{1})
			check("recover", err)
		}
		_, err = d.SignPersonal(ctx, path, []byte("x"))
		check("sign message", err)
		_, err = d.SignAuthorization(ctx, path, 1, common.Address{}, 0)
		check("sign authorization", err)
		_, err = d.checkApp(ctx)
		check("check app", err)
	})
}

// FuzzEncodeTypedData feeds arbitrary documents to the EIP-712 encoder (the
// JSON comes from users and dapps).
func FuzzEncodeTypedData(f *testing.F) {
	f.Add([]byte(`{"types":{"EIP712Domain":[{"name":"name","type":"string"}],"M":[{"name":"a","type":"int8[2][]"},{"name":"b","type":"bytes"}]},"primaryType":"M","domain":{"name":"x"},"message":{"a":[[1,-2]],"b":"0x00"}}`))
	f.Add([]byte(`{"types":{"EIP712Domain":[],"P":[{"name":"q","type":"P[]"}]},"primaryType":"P","domain":{},"message":{"q":[{"q":[]}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		enc, err := EncodeTypedData(doc)
		if err == nil && (enc == nil || enc.APDUs == nil) {
			t.Fatal("no APDUs without an error")
		}
		if err == nil {
			for _, a := range enc.APDUs {
				if len(a.Data) > maxData {
					t.Fatalf("APDU data of %d bytes", len(a.Data))
				}
			}
		}
	})
}

func codeOf(err error) sdk.Code { return sdk.CodeOf(err) }
