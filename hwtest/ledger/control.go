package ledger

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
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
	action("/approve", ok(e.ApproveAll))
	action("/reject", ok(e.RejectNext))
	action("/lock", ok(func() { e.SetLocked(true) }))
	action("/unlock", ok(func() { e.SetLocked(false) }))
	action("/app/open", ok(func() { e.SetAppOpen(true) }))
	action("/app/close", ok(func() { e.SetAppOpen(false) }))
	action("/blind/on", ok(func() { e.SetBlindSigning(true) }))
	action("/blind/off", ok(func() { e.SetBlindSigning(false) }))
	action("/eip7702/on", ok(func() { e.Set7702(true) }))
	action("/eip7702/off", ok(func() { e.Set7702(false) }))
	action("/version", func(r *http.Request) (int, string) {
		if err := e.SetAppVersion(r.URL.Query().Get("v")); err != nil {
			return http.StatusBadRequest, err.Error()
		}
		return 0, ""
	})
	action("/delay", func(r *http.Request) (int, string) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 600_000 {
			return http.StatusBadRequest, "ms must be an integer between 0 and 600000"
		}
		e.SetConfirmDelay(time.Duration(ms) * time.Millisecond)
		return 0, ""
	})
	action("/disconnect", func(r *http.Request) (int, string) {
		if a := r.URL.Query().Get("after"); a != "" {
			n, err := strconv.Atoi(a)
			if err != nil || n < 1 {
				return http.StatusBadRequest, "after must be a positive integer"
			}
			e.DisconnectAfter(n)
			return 0, ""
		}
		e.DisconnectNext()
		return 0, ""
	})
	return mux
}
