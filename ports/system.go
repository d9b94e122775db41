package ports

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/example/accounts/domain"
)

var (
	errNotFound = domain.NewError(domain.CodeNotFound, "There is nothing at this path.")
	errNotReady = domain.Unavailable("The service is not ready; try again shortly.", time.Second)
)

// toDocs sends a visitor of the bare host to the API's documentation.
func toDocs(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Location", "/docs")
	return writeStatus(w, http.StatusTemporaryRedirect)
}

// live answers as long as the process can serve at all; it checks no dependency, so
// that an orchestrator restarts the process only when restarting can help.
func live(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, statusOK)
}

// ready answers 200 only when every probe passes, so that traffic is routed here only
// when requests can succeed, and within ReadyTimeout: a dependency that hangs is
// not ready. Which probe failed goes to the log, not to the client.
func (s *server) ready(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	for _, probe := range s.probes {
		if err := probe(ctx); err != nil {
			return fmt.Errorf("%w: %w", errNotReady, err)
		}
	}
	return writeJSON(w, http.StatusOK, statusOK)
}

// apiIndex lets a client check that it has found the API.
func apiIndex(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, statusOK)
}

func notFound(http.ResponseWriter, *http.Request) error {
	return errNotFound
}
