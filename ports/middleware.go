package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/domain"
)

// withRequestID gives every request its correlation id: the caller's X-Request-Id
// when it is safe to repeat in logs and headers, a new random one otherwise. It is
// echoed on every response and travels in the context onto the bus.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Two ids are no id: which one the caller meant is anyone's guess, as with
		// a query parameter given twice.
		var id string
		if ids := r.Header.Values("X-Request-Id"); len(ids) == 1 && validRequestID(ids[0]) {
			id = ids[0]
		} else {
			id = domain.NewCorrelationID()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(domain.WithCorrelationID(r.Context(), id)))
	})
}

// validRequestID accepts 1 to 128 characters of [A-Za-z0-9._-] (the contract).
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// withSecurityHeaders sets the headers every response carries, the documentation
// included. Handlers may still override them; the API's own responses add more (see
// apiHeaders).
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the whole request, and with it every round trip to the bus.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// notes is what the inner layers learn about a request that its access log line
// reports: the route it matched, who made it, the error behind a 5xx, and whether the
// client hung up before it was answered. The access log puts an empty one in the
// context; the request's own goroutine fills it in.
type notes struct {
	route  string
	userID string
	// username is the name a failed login tried (401 or 429), for the warning that
	// operators watch for guessing. Only a name that passed the username rules is
	// noted: anything else is not worth repeating in the logs.
	username   string
	err        error
	clientGone bool
}

// statusClientClosedRequest is what the access log records for a request whose
// client hung up before it was answered: nginx's 499, so that it reads neither as
// the service's failure (5xx) nor as an answer the client got.
const statusClientClosedRequest = 499

type notesKey struct{}

// notesFrom returns the request's notes. Outside the access log (in a test of one
// handler) it returns a throwaway, so that handlers never need to check.
func notesFrom(ctx context.Context) *notes {
	if n, ok := ctx.Value(notesKey{}).(*notes); ok {
		return n
	}
	return &notes{}
}

// withAccessLog writes exactly one line per request, after it is served, and turns a
// panic into a 500 on that same line with its stack. It logs the path but never the
// query, headers, cookies or bodies, any of which may hold a secret. client names
// the client behind a trusted proxy, logged when it is not the TCP peer.
//
// The line tells what the client got, not what the handler meant to send: the
// response is flushed before the line is written, so one the connection could not
// carry (a client that stopped reading until the write timeout, or hung up) is logged
// with the error that stopped it.
//
// observer, when set, hears of every request with the same status the line shows.
func withAccessLog(logger *zap.Logger, observer RequestObserver, client func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		n := &notes{}
		r = r.WithContext(context.WithValue(r.Context(), notesKey{}, n))
		rec := &recorder{ResponseWriter: w}
		defer func() {
			panicked := false
			if v := recover(); v != nil {
				panicked, n.err = true, fmt.Errorf("panic: %v", v)
				if rec.status == 0 {
					writeError(rec, r, n.err)
				}
			}
			rec.flush()
			took := time.Since(start)
			status := answered(rec, n)
			if observer != nil {
				observer.ObserveRequest(n.route, r.Method, status, took)
			}
			describeResponse(r.Context(), status, rec.bytes)
			logRequest(logger, r, client(r), rec, n, status, took, panicked)
			if rec.status == 0 && n.clientGone {
				// Returning without a word would make net/http answer 200 to whoever
				// may still be listening; aborting closes the connection instead.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// answered is the status the access log and the metrics record.
func answered(rec *recorder, n *notes) int {
	if n.clientGone && rec.status == 0 {
		return statusClientClosedRequest
	}
	return rec.statusCode()
}

func logRequest(logger *zap.Logger, r *http.Request, client string, rec *recorder, n *notes, status int, took time.Duration, panicked bool) {
	fields := []zap.Field{
		zap.String("method", r.Method),
		zap.String("route", n.route),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Duration("duration", took),
		zap.Int64("bytes", rec.bytes),
		zap.String("correlation_id", domain.CorrelationID(r.Context())),
		zap.String("remote", r.RemoteAddr),
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && client != host {
		fields = append(fields, zap.String("client", client))
	}
	if n.userID != "" {
		fields = append(fields, zap.String("user_id", n.userID))
	}
	if n.username != "" {
		fields = append(fields, zap.String("username", n.username))
	}
	if n.err != nil {
		fields = append(fields, zap.Error(n.err))
	}
	level := zapcore.InfoLevel
	if status == http.StatusForbidden || n.username != "" {
		// A refused authorization or a failed login: what someone probing
		// accounts or privileges leaves behind.
		level = zapcore.WarnLevel
	}
	if rec.writeErr != nil {
		// The client did not get the whole response. Like nginx and Envoy, the line
		// keeps the status that was being sent and says the response was cut short.
		// A write deadline that passed is an error: the response did not go out in
		// the time the service allows (a slow handler, or a client that stops
		// reading and holds a connection until then). A connection the client
		// closed is its own business.
		fields = append(fields, zap.NamedError("write_error", rec.writeErr))
		if errors.Is(rec.writeErr, os.ErrDeadlineExceeded) {
			level = zapcore.ErrorLevel
		}
	}
	if status >= http.StatusInternalServerError {
		level = zapcore.ErrorLevel
	}
	if panicked {
		// Still on the panicking goroutine's stack, so this names where it panicked.
		fields = append(fields, zap.Stack("stack"))
		level = zapcore.ErrorLevel
	}
	logger.Log(level, "http request", withTrace(r.Context(), fields)...)
}

// recorder remembers the status and size of a response for the access log, and the
// first error writing it met.
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	writeErr error
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	if err != nil && rec.writeErr == nil {
		rec.writeErr = err
	}
	return n, err
}

// flush sends what the handler wrote, so that a failure to deliver it is known
// before the access log line is written. It only flushes a response that declared
// its length: flushing any other would switch it to chunked encoding. Every response
// the service writes itself declares it; the cost is nil, since net/http would make
// the same write a moment later.
func (rec *recorder) flush() {
	if rec.status == 0 || rec.writeErr != nil || rec.Header().Get("Content-Length") == "" {
		return
	}
	if err := http.NewResponseController(rec.ResponseWriter).Flush(); err != nil {
		rec.writeErr = err
	}
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (rec *recorder) Unwrap() http.ResponseWriter {
	return rec.ResponseWriter
}

// statusCode is the status the client got: 200 when the handler wrote nothing.
func (rec *recorder) statusCode() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}
