package meta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/export"
)

// Graph API error codes the sink tells apart (Graph API "Handling Errors",
// Marketing API "Rate Limiting").
const (
	CodeUnknown      = 1     // API Unknown: possibly temporary
	CodeService      = 2     // API Service: temporary
	CodeAppRate      = 4     // API Too Many Calls (application)
	CodeUserRate     = 17    // API User Too Many Calls
	CodePageRate     = 32    // Page request limit reached
	CodeAppLimit     = 341   // Application limit reached
	CodeBlocked      = 368   // Temporarily blocked for policy violations
	CodeCallLimit    = 613   // Calls within one hour exceeded
	CodeAdAcctRate   = 80004 // Too many calls to this ad account
	CodeInvalidParam = 100   // Invalid parameter
	CodeSession      = 102   // API Session: the login or token is invalid
	CodeTokenInvalid = 190   // OAuthException: access token expired, revoked or invalid
)

// rateLimitCodes are retried no sooner than rateLimitWait unless the
// answer says when: Meta's usage windows run for up to an hour, and a
// retry within seconds only counts against them again.
var rateLimitCodes = []int{CodeAppRate, CodeUserRate, CodePageRate, CodeAppLimit, CodeCallLimit, CodeAdAcctRate}

const rateLimitWait = 5 * time.Minute

// APIError is an error answer of the Graph API: its error object, the
// HTTP status, and the wait the answer asked for. It says whether a retry
// can help (Permanent) and how long to wait (RetryAfter).
type APIError struct {
	StatusCode  int    `json:"-"`
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode"`
	UserTitle   string `json:"error_user_title"`
	UserMessage string `json:"error_user_msg"`
	Transient   bool   `json:"is_transient"`
	FBTraceID   string `json:"fbtrace_id"`
	// Wait is the answer's Retry-After, zero when it had none.
	Wait time.Duration `json:"-"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "meta: HTTP %d: ", e.StatusCode)
	switch {
	case e.IsTokenInvalid():
		b.WriteString("the access token is invalid or expired (make a new one and requeue): ")
	case e.IsRateLimit():
		b.WriteString("rate limited: ")
	}
	if e.Type != "" {
		b.WriteString(e.Type + " ")
	}
	fmt.Fprintf(&b, "code %d", e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, "/%d", e.Subcode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.UserMessage != "" && e.UserMessage != e.Message {
		b.WriteString(" (" + strings.TrimSpace(e.UserTitle+": "+e.UserMessage) + ")")
	}
	if e.FBTraceID != "" {
		b.WriteString(" fbtrace_id " + e.FBTraceID)
	}
	return b.String()
}

// IsTokenInvalid reports an access token Meta no longer takes (code 190,
// or 102 for a session).
func (e *APIError) IsTokenInvalid() bool {
	return e.Code == CodeTokenInvalid || e.Code == CodeSession
}

// IsRateLimit reports one of Meta's rate limits, or HTTP 429.
func (e *APIError) IsRateLimit() bool {
	return slices.Contains(rateLimitCodes, e.Code) || e.StatusCode == http.StatusTooManyRequests
}

// Permanent reports errors retrying cannot fix: an invalid token (a new
// one must be configured; the message can then be requeued), an invalid
// event, missing permissions. Rate limits, Meta's temporary errors
// (codes 1, 2 and 368, or is_transient), 5xx answers, 408 and 429 are
// retried.
func (e *APIError) Permanent() bool {
	switch {
	case e.IsTokenInvalid():
		return true
	case e.IsRateLimit(), e.Transient, e.Code == CodeUnknown, e.Code == CodeService, e.Code == CodeBlocked:
		return false
	case e.StatusCode >= 500, e.StatusCode == http.StatusRequestTimeout:
		return false
	}
	return true
}

// RetryAfter is the answer's Retry-After, or for a rate limit without
// one, a wait long enough for Meta's usage window to move.
func (e *APIError) RetryAfter() time.Duration {
	if e.Wait > 0 {
		return e.Wait
	}
	if e.IsRateLimit() {
		return rateLimitWait
	}
	return 0
}

// responseError turns a non-2xx answer into an [*APIError] when it
// carries the Graph API's error object, else into export's HTTPError.
func responseError(resp *http.Response, body []byte, now time.Time) error {
	var env struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err == nil && env.Error != nil && (env.Error.Code != 0 || env.Error.Message != "") {
		e := env.Error
		e.StatusCode, e.Wait = resp.StatusCode, retryAfter(resp.Header, now)
		return e
	}
	b := strings.TrimSpace(string(body))
	if len(b) > 1024 {
		b = b[:1024]
	}
	return &export.HTTPError{Op: "meta: post event", StatusCode: resp.StatusCode, Body: b, Wait: retryAfter(resp.Header, now)}
}
