package trezor

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
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
	mux := http.NewServeMux()
	state := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.State())
	}
	action := func(path string, f func(r *http.Request) (int, string)) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			if code, msg := f(r); code != 0 {
				http.Error(w, msg, code)
				return
			}
			state(w)
		})
	}
	ok := func(f func()) func(*http.Request) (int, string) {
		return func(*http.Request) (int, string) { f(); return 0, "" }
	}
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) { state(w) })
	action("/approve", ok(func() {
		if !e.Approve() {
			e.ApproveAll()
		}
	}))
	action("/reject", ok(func() {
		if !e.Reject() {
			e.RejectNext()
		}
	}))
	action("/reject-all", ok(e.RejectAll))
	action("/manual", ok(func() { e.SetManual(true) }))
	action("/auto", ok(e.ApproveAll))
	action("/lock", ok(e.Lock))
	action("/disconnect", ok(e.DisconnectNext))
	action("/delay", func(r *http.Request) (int, string) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 600_000 {
			return http.StatusBadRequest, "ms must be an integer between 0 and 600000"
		}
		e.SetConfirmDelay(time.Duration(ms) * time.Millisecond)
		return 0, ""
	})
	action("/pin-entry", func(r *http.Request) (int, string) {
		switch p := PINEntry(r.URL.Query().Get("next")); p {
		case PINCorrect, PINWrong, PINCancel:
			e.SetPINEntry(p)
			return 0, ""
		}
		return http.StatusBadRequest, "next must be correct, wrong or cancel"
	})
	return mux
}
