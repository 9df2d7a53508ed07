package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Control is the skeleton of an emulator's HTTP control endpoint, for
// demos, scripts and tools in other languages: GET /state reads the
// device state; every action is a POST that answers the resulting state as
// JSON, or 400 with the reason when its parameters are bad.
type Control struct {
	mux   *http.ServeMux
	state func() any
}

var _ http.Handler = (*Control)(nil)

// NewControl returns an endpoint whose GET /state answers state().
func NewControl(state func() any) *Control {
	c := &Control{mux: http.NewServeMux(), state: state}
	c.mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) { c.writeState(w) })
	return c
}

func (c *Control) writeState(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c.state())
}

// Handle adds the action POST path; an error from f answers 400 with its
// text and changes nothing else.
func (c *Control) Handle(path string, f func(r *http.Request) error) {
	c.mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		if err := f(r); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.writeState(w)
	})
}

// Do adds the action POST path, which takes no parameter.
func (c *Control) Do(path string, f func()) {
	c.Handle(path, func(*http.Request) error { f(); return nil })
}

// HandleDelay adds POST /delay?ms=N (0 to 600000): the time the simulated
// user takes to confirm.
func (c *Control) HandleDelay(set func(time.Duration)) {
	c.Handle("/delay", func(r *http.Request) error {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 600_000 {
			return errBadDelay
		}
		set(time.Duration(ms) * time.Millisecond)
		return nil
	})
}

var errBadDelay = errors.New("ms must be an integer between 0 and 600000")

// ServeHTTP implements http.Handler.
func (c *Control) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }
