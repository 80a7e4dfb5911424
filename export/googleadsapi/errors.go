package googleadsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/attriqs/calltrack/export"
)

// Error is Google's refusal of an upload: of the whole request (an HTTP
// error status), or of its one row (a partial failure, StatusCode 200).
// It says whether retrying can help ([Error.Permanent]) and how long to
// wait first ([Error.RetryAfter]).
type Error struct {
	Op         string // e.g. "upload click conversion"
	StatusCode int    // the HTTP status; 200 for a row's partial failure
	Status     string // the google.rpc status, e.g. "UNAUTHENTICATED"
	Message    string
	// Reasons are the GoogleAdsErrors, each "<type>: <code>", e.g.
	// "conversionUploadError: EXPIRED_EVENT".
	Reasons   []string
	RequestID string
	Wait      time.Duration
	permanent bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "googleadsapi: %s:", e.Op)
	if e.StatusCode != http.StatusOK {
		fmt.Fprintf(&b, " HTTP %d", e.StatusCode)
	}
	if e.Status != "" {
		b.WriteString(" " + e.Status)
	}
	if len(e.Reasons) > 0 {
		b.WriteString(" " + strings.Join(e.Reasons, ", "))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Permanent reports whether sending the same upload again cannot succeed.
func (e *Error) Permanent() bool { return e.permanent }

// RetryAfter is the wait Google asked for (Retry-After, a quota error's
// retryDelay, or the documented wait of a "too recent" row), zero if none.
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Has reports whether code ("EXPIRED_EVENT", or "conversionUploadError:
// EXPIRED_EVENT") is one of the error's reasons.
func (e *Error) Has(code string) bool {
	return slices.ContainsFunc(e.Reasons, func(r string) bool { return r == code || strings.HasSuffix(r, ": "+code) })
}

// The JSON of a google.rpc.Status whose details carry a GoogleAdsFailure.
type (
	rpcStatus struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Status  string          `json:"status"`
		Details []adsFailureAny `json:"details"`
	}
	adsFailureAny struct {
		Type      string     `json:"@type"`
		Errors    []adsError `json:"errors"`
		RequestID string     `json:"requestId"`
	}
	adsError struct {
		ErrorCode map[string]string `json:"errorCode"`
		Message   string            `json:"message"`
		Details   struct {
			QuotaErrorDetails struct {
				RetryDelay string `json:"retryDelay"`
			} `json:"quotaErrorDetails"`
		} `json:"details"`
	}
)

// reasons lists a status's GoogleAdsErrors and their longest retryDelay.
func (st rpcStatus) reasons() (reasons, messages []string, requestID string, wait time.Duration) {
	for _, d := range st.Details {
		if d.RequestID != "" {
			requestID = d.RequestID
		}
		for _, e := range d.Errors {
			keys := make([]string, 0, len(e.ErrorCode))
			for k := range e.ErrorCode {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				reasons = append(reasons, k+": "+e.ErrorCode[k])
			}
			if e.Message != "" {
				messages = append(messages, e.Message)
			}
			if d, err := time.ParseDuration(e.Details.QuotaErrorDetails.RetryDelay); err == nil && d > wait {
				wait = d
			}
		}
	}
	return reasons, messages, requestID, wait
}

// requestError reads an HTTP error answer. The status classes follow
// [export.CheckResponse] (4xx other than 408 and 429 are permanent), but
// UNAUTHENTICATED is retried: it comes back after the sink's one token
// refresh, and credentials fixed by the host make it go away.
func requestError(op string, resp *http.Response, raw []byte, now time.Time) error {
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var herr *export.HTTPError
	errors.As(export.CheckResponse(op, resp, now), &herr)
	e := &Error{Op: op, StatusCode: resp.StatusCode, permanent: herr.Permanent(), Wait: herr.Wait}
	var body struct {
		Error rpcStatus `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Error.Message != "" || body.Error.Status != "") {
		var msgs []string
		var wait time.Duration
		e.Status = body.Error.Status
		e.Reasons, msgs, e.RequestID, wait = body.Error.reasons()
		e.Message = cmpJoin(body.Error.Message, msgs)
		e.Wait = max(e.Wait, wait)
	} else {
		e.Message = herr.Body
	}
	if resp.StatusCode == http.StatusUnauthorized {
		e.permanent = false
	}
	return e
}

func cmpJoin(first string, more []string) string {
	parts := []string{}
	if first != "" {
		parts = append(parts, first)
	}
	for _, m := range more {
		if m != first {
			parts = append(parts, m)
		}
	}
	return strings.Join(parts, "; ")
}

// Row errors Google documents as "try again later", with its wait.
var rowWaits = map[string]time.Duration{
	"conversionUploadError: TOO_RECENT_EVENT":                       6 * time.Hour,
	"conversionUploadError: TOO_RECENT_CALL":                        12 * time.Hour,
	"conversionUploadError: TOO_RECENT_CONVERSION_ACTION":           6 * time.Hour,
	"conversionAdjustmentUploadError: TOO_RECENT_CONVERSION_ACTION": 6 * time.Hour,
	"conversionAdjustmentUploadError: TOO_RECENT_CONVERSION":        24 * time.Hour,
}

// Row errors that mean Google already has what the row says: an earlier
// attempt of the same message landed (its answer was lost), or, for
// MORE_RECENT_RESTATEMENT_FOUND, a later change of the same conversion
// did, which supersedes this one.
var rowDone = map[string]bool{
	"conversionUploadError: ORDER_ID_ALREADY_IN_USE":                 true,
	"conversionUploadError: CLICK_CONVERSION_ALREADY_EXISTS":         true,
	"conversionUploadError: CALL_CONVERSION_ALREADY_EXISTS":          true,
	"conversionAdjustmentUploadError: RESTATEMENT_ALREADY_EXISTS":    true,
	"conversionAdjustmentUploadError: MORE_RECENT_RESTATEMENT_FOUND": true,
}

// alreadyRetracted answers a retraction sent again (done) or a
// restatement of a retracted conversion (refused).
const alreadyRetracted = "conversionAdjustmentUploadError: CONVERSION_ALREADY_RETRACTED"

// rowResult reads a 2xx upload answer: nil when the row was accepted (or
// Google already had it), else an [*Error] for the row's partial failure.
// retraction says the row retracts a conversion.
func rowResult(op string, raw []byte, retraction bool) error {
	var body struct {
		PartialFailureError *rpcStatus `json:"partialFailureError"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("googleadsapi: %s: decode answer: %w", op, err)
	}
	pf := body.PartialFailureError
	if pf == nil || (pf.Code == 0 && pf.Message == "" && len(pf.Details) == 0) {
		return nil
	}
	e := &Error{Op: op, StatusCode: http.StatusOK, permanent: true}
	var msgs []string
	e.Reasons, msgs, e.RequestID, _ = pf.reasons()
	e.Message = cmpJoin(pf.Message, msgs)
	done := len(e.Reasons) > 0
	for _, r := range e.Reasons {
		if w, ok := rowWaits[r]; ok {
			e.permanent, e.Wait = false, max(e.Wait, w)
		}
		done = done && (rowDone[r] || retraction && r == alreadyRetracted)
	}
	if done {
		return nil
	}
	return e
}
