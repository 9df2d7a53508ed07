package trezor

import (
	"errors"
	"net/http"

	"github.com/mm-wallet/mm/hwtest/emulator"
)

// ControlHandler returns the emulator's HTTP control endpoint, for demos,
// scripts and tools in other languages. Actions are POSTs; each answers the
// resulting State as JSON (GET /state only reads).
//
//	GET  /state                       model, firmware, lock state, the PIN matrix on screen, counters
//	POST /approve                     approve the confirmation on screen (manual mode); else: approve all from now on
//	POST /reject                      reject the confirmation on screen (manual mode); else: reject the next one
//	POST /reject-all                  reject every confirmation until /approve
//	POST /manual                      wait for /approve or /reject at every confirmation
//	POST /auto                        approve every confirmation at once (the default)
//	POST /delay?ms=1500               time the simulated user takes to confirm
//	POST /lock                        lock the device (the PIN is asked again)
//	POST /pin-entry?next=wrong        what the user does at the next on-device PIN entry of a Core model: correct, wrong, cancel
//	POST /disconnect                  unplug at the next confirmation
func (e *Emulator) ControlHandler() http.Handler {
	c := emulator.NewControl(func() any { return e.State() })
	c.Do("/approve", func() {
		if !e.Approve() {
			e.ApproveAll()
		}
	})
	c.Do("/reject", func() {
		if !e.Reject() {
			e.RejectNext()
		}
	})
	c.Do("/reject-all", e.RejectAll)
	c.Do("/manual", func() { e.SetManual(true) })
	c.Do("/auto", e.ApproveAll)
	c.Do("/lock", e.Lock)
	c.Do("/disconnect", e.DisconnectNext)
	c.HandleDelay(e.SetConfirmDelay)
	c.Handle("/pin-entry", func(r *http.Request) error {
		switch p := PINEntry(r.URL.Query().Get("next")); p {
		case PINCorrect, PINWrong, PINCancel:
			e.SetPINEntry(p)
			return nil
		}
		return errors.New("next must be correct, wrong or cancel")
	})
	return c
}
