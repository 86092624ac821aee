package attomsim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// ControlPrefix starts the paths that read and steer the simulator instead of answering as
// ATTOM (ATTOM has no path there):
//
//	GET   /_sim/ledger  Statement: what ATTOM would have billed
//	GET   /_sim/status  Traffic: calls and answers per HTTP status
//	GET   /_sim/fault   Fault in force
//	PUT   /_sim/fault   replace the Fault (a JSON Fault; absent fields are zero)
//	PATCH /_sim/fault   change only the fields sent
//
// They exist so that a test can count money by the simulator's ledger when the simulator
// runs in another process. They need no apikey (the simulator is a test tool and listens on
// loopback by default), and they are never billed nor counted as calls.
const ControlPrefix = "/_sim/"

// Control paths, below ControlPrefix.
const (
	LedgerPath = ControlPrefix + "ledger"
	StatusPath = ControlPrefix + "status"
	FaultPath  = ControlPrefix + "fault"
)

// Statement is the billing ledger: Billed reports in all, ByAddress counts them per address
// key (see AddressKey) and endpoint, Charges lists them oldest first.
type Statement struct {
	Billed    int                       `json:"billed"`
	ByAddress map[string]map[string]int `json:"by_address"`
	Charges   []Charge                  `json:"charges"`
}

// BilledFor is the number of reports billed for one address key over all endpoints.
func (st Statement) BilledFor(addressKey string) int {
	n := 0
	for _, c := range st.ByAddress[normalizeKey(addressKey)] {
		n += c
	}
	return n
}

// Traffic counts the ATTOM calls the simulator received (control requests excluded) and what
// it answered. ByStatus counts answers sent per HTTP status (an HTML page counts as 200; a
// call whose client left before the answer counts in none); HTML, Malformed and Hung count
// the calls those faults hit.
type Traffic struct {
	Calls     int         `json:"calls"`
	ByStatus  map[int]int `json:"by_status"`
	HTML      int         `json:"html"`
	Malformed int         `json:"malformed"`
	Hung      int         `json:"hung"`
}

// serveControl answers a request below ControlPrefix.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == LedgerPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Statement())
	case r.URL.Path == StatusPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Traffic())
	case r.URL.Path == FaultPath && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Fault())
	case r.URL.Path == FaultPath && (r.Method == http.MethodPut || r.Method == http.MethodPatch):
		s.putFault(w, r)
	case r.URL.Path == LedgerPath || r.URL.Path == StatusPath || r.URL.Path == FaultPath:
		writeJSON(w, http.StatusMethodNotAllowed, controlError{fmt.Sprintf("%s %s is not supported", r.Method, r.URL.Path)})
	default:
		writeJSON(w, http.StatusNotFound, controlError{"no control path " + r.URL.Path + " (see " + LedgerPath + ", " + StatusPath + ", " + FaultPath + ")"})
	}
}

// putFault replaces the fault (PUT) or changes the fields sent (PATCH), and answers with the
// fault now in force.
func (s *Server) putFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if r.Method == http.MethodPatch {
		f = s.Fault()
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&f); err != nil {
		writeJSON(w, http.StatusBadRequest, controlError{"fault: " + err.Error()})
		return
	}
	if err := f.Validate(); err != nil {
		writeJSON(w, http.StatusBadRequest, controlError{"fault: " + err.Error()})
		return
	}
	s.SetFault(f)
	writeJSON(w, http.StatusOK, s.Fault())
}

// controlError is the body of a refused control request.
type controlError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
