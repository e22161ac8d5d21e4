// Package errs is the gateway's one error type. Feature packages return
// *Error with one of a handful of codes, wrapping causes with %w; the edges
// map each code once: to an HTTP status for the admin API and pages
// (HTTPStatus) and to a cXML status for /cxml (CXMLStatus). Database
// driver errors are translated into these codes in internal/db
// (db.Translate), nowhere else.
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an error by what the caller can do about it.
type Code string

// The codes. Anything else is Internal.
const (
	Invalid      Code = "invalid"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unsupported  Code = "not_implemented"
	Expired      Code = "expired"
	TooLarge     Code = "too_large"
	// TooMany refuses a source that failed to authenticate too often.
	TooMany Code = "too_many_requests"
	// Unavailable refuses work the gateway has no room for now; the
	// same request may be sent again shortly.
	Unavailable Code = "unavailable"
	Internal    Code = "internal"
)

// Error is an error with a code and a message meant for the caller: a
// buyer's administrator reading a cXML Status, or an admin reading a JSON
// error. Err, when set, is the cause, for logs only.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E returns an *Error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with a message for the caller and err as cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, Internal for
// any other error and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf is the message to show for err. Internal errors show a fixed
// text: their causes are for the log, not the caller.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "an internal error occurred; it has been logged, try again later"
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

type mapping struct {
	http int
	cxml int
}

// table is the one mapping from code to statuses. cXML codes follow the
// cXML reference guide: 400 unacceptable, 401 credentials not recognised,
// 403 not permitted, 409 state conflict, 417 a referenced resource (an
// offer, an earlier order) is not in the state the request implies, 429
// too many failed attempts from the sender's address, 450 not
// implemented, 500 and 503 temporary.
var table = map[Code]mapping{
	Invalid:      {http.StatusBadRequest, 400},
	Unauthorized: {http.StatusUnauthorized, 401},
	Forbidden:    {http.StatusForbidden, 403},
	NotFound:     {http.StatusNotFound, 404},
	Conflict:     {http.StatusConflict, 409},
	Expired:      {http.StatusConflict, 417},
	Unsupported:  {http.StatusNotImplemented, 450},
	TooLarge:     {http.StatusRequestEntityTooLarge, 413},
	TooMany:      {http.StatusTooManyRequests, 429},
	Unavailable:  {http.StatusServiceUnavailable, 503},
	Internal:     {http.StatusInternalServerError, 500},
}

// HTTPStatus is the HTTP status for err.
func HTTPStatus(err error) int {
	if m, ok := table[CodeOf(err)]; ok {
		return m.http
	}
	return http.StatusInternalServerError
}

// CXMLStatus is the cXML Status code for err.
func CXMLStatus(err error) int {
	if m, ok := table[CodeOf(err)]; ok {
		return m.cxml
	}
	return 500
}
