package ledger

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mm-wallet/mm/hwtest/emulator"
)

// ControlHandler returns the HTTP control endpoint of the emulator, for
// demos, scripts and tools in other languages. Every action is a POST (GET
// /state reads); each answers the resulting State as JSON.
//
//	GET  /state                 device state and counters
//	POST /approve               auto-approve every confirmation (clears faults)
//	POST /reject                reject the next confirmation (0x6985)
//	POST /lock                  PIN screen up: every APDU answers 0x5515
//	POST /unlock
//	POST /app/open              open the Ethereum app
//	POST /app/close             back to the dashboard (0x6E01)
//	POST /blind/on              "Blind signing" setting on
//	POST /blind/off             off: calldata and EIP-712 hashes answer 0x6A80
//	POST /eip7702/on | /eip7702/off
//	POST /version?v=1.8.8       app version (1.8.8 answers 0x6501 to typed txs)
//	POST /delay?ms=1500         time the simulated user takes to confirm
//	POST /disconnect            unplug at the next confirmation
//	POST /disconnect?after=3    unplug on the 3rd APDU from now
func (e *Emulator) ControlHandler() http.Handler {
	c := emulator.NewControl(func() any { return e.State() })
	c.Do("/approve", e.ApproveAll)
	c.Do("/reject", e.RejectNext)
	c.Do("/lock", func() { e.SetLocked(true) })
	c.Do("/unlock", func() { e.SetLocked(false) })
	c.Do("/app/open", func() { e.SetAppOpen(true) })
	c.Do("/app/close", func() { e.SetAppOpen(false) })
	c.Do("/blind/on", func() { e.SetBlindSigning(true) })
	c.Do("/blind/off", func() { e.SetBlindSigning(false) })
	c.Do("/eip7702/on", func() { e.Set7702(true) })
	c.Do("/eip7702/off", func() { e.Set7702(false) })
	c.Handle("/version", func(r *http.Request) error { return e.SetAppVersion(r.URL.Query().Get("v")) })
	c.HandleDelay(e.SetConfirmDelay)
	c.Handle("/disconnect", func(r *http.Request) error {
		a := r.URL.Query().Get("after")
		if a == "" {
			e.DisconnectNext()
			return nil
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			return errors.New("after must be a positive integer")
		}
		e.DisconnectAfter(n)
		return nil
	})
	return c
}
