package cxml

import "fmt"

// Status codes the gateway sends and understands. cXML borrows HTTP's
// classes: 2xx success, 4xx the sender must change something before trying
// again, 5xx a temporary failure worth retrying (Coupa retries a 5xx
// OrderRequest answer five times, hourly).
const (
	StatusOK                  = 200
	StatusAccepted            = 201
	StatusNoContent           = 204
	StatusBadRequest          = 400
	StatusUnauthorized        = 401
	StatusForbidden           = 403
	StatusNotFound            = 404
	StatusNotAcceptable       = 406
	StatusConflict            = 409
	StatusPreconditionFailed  = 412
	StatusTooLarge            = 413
	StatusExpectationFailed   = 417
	StatusTooManyRequests     = 429
	StatusNotImplemented      = 450
	StatusInternalServerError = 500
	StatusServiceUnavailable  = 503
	StatusTemporaryError      = 560
)

var statusTexts = map[int]string{
	StatusOK:                  "OK",
	StatusAccepted:            "Accepted",
	StatusNoContent:           "No Content",
	StatusBadRequest:          "Bad Request",
	StatusUnauthorized:        "Unauthorized",
	StatusForbidden:           "Forbidden",
	StatusNotFound:            "Not Found",
	StatusNotAcceptable:       "Not Acceptable",
	StatusConflict:            "Conflict",
	StatusPreconditionFailed:  "Precondition Failed",
	StatusTooLarge:            "Request Entity Too Large",
	StatusExpectationFailed:   "Expectation Failed",
	StatusTooManyRequests:     "Too Many Requests",
	StatusNotImplemented:      "Not Implemented",
	StatusInternalServerError: "Internal Server Error",
	StatusServiceUnavailable:  "Service Unavailable",
	StatusTemporaryError:      "Temporary server error",
}

// StatusText is the standard text of a status code, as the cXML reference
// guide and Ariba's list of status codes name it.
func StatusText(code int) string {
	if t, ok := statusTexts[code]; ok {
		return t
	}
	return fmt.Sprintf("Status %d", code)
}

// Status is the cXML Status element: a code, its standard text and a detail
// a buyer's administrator can act on, carried as the element's content.
type Status struct {
	Code   int
	Text   string
	Detail string
	Lang   string
}

// NewStatus returns a Status with the standard text for code.
func NewStatus(code int, detail string) Status {
	return Status{Code: code, Text: StatusText(code), Detail: detail}
}

// Success reports whether the status is in the 2xx class.
func (s Status) Success() bool { return s.Code >= 200 && s.Code < 300 }

// Temporary reports whether the sender may retry the same document later.
func (s Status) Temporary() bool { return s.Code >= 500 }

// Error is an error that carries the cXML status it should be answered
// with. Parse returns one for every document it refuses.
type Error struct {
	Code   int
	Detail string
	Err    error
}

// Error names the status code and the detail.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cxml %d: %s: %v", e.Code, e.Detail, e.Err)
	}
	return fmt.Sprintf("cxml %d: %s", e.Code, e.Detail)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Status is the Status element that answers the refused document.
func (e *Error) Status() Status { return NewStatus(e.Code, e.Detail) }

func errorf(code int, err error, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...), Err: err}
}
