package dni

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/provider"
)

// Handler serves everything under Config.Prefix (mount it there):
//
//	GET  tracker.js                          the browser script (see ScriptSrc)
//	POST v1/visit, v1/heartbeat, v1/events   the tracker's API (JSON; CORS for AllowedOrigins)
//	POST webhooks/{provider}                 telephony webhooks, one path per WithProvider
//	POST v1/chat/{platform}                  chat platforms' webhooks, one per Config.ChatWebhooks
//	GET  reports/…                           reports, only behind WithReportAuth
//
// Webhooks are answered and their events spooled at once; Run records
// them.
func (s *Service) Handler() http.Handler { return s.handler }

func (s *Service) buildHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	p := s.cfg.Prefix
	mux.Handle(p+"tracker.js", s.script.Handler())
	mux.Handle(p+"v1/visit", s.api(s.serveVisit))
	mux.Handle(p+"v1/heartbeat", s.api(s.serveHeartbeat))
	mux.Handle(p+"v1/events", s.api(s.serveEvents))

	if s.ingest != nil {
		for _, prov := range s.providers {
			h, err := provider.NewHandler(prov, s.ingest, s.route, provider.HandlerConfig{
				Fallback: s.fallbackForward(), PublicURL: s.cfg.PublicURL, InsecureSkipVerify: s.skipVerify,
				MaxBodyBytes: s.cfg.WebhookMaxBodyBytes,
				Logger:       s.log, Clock: s.now})
			if err != nil {
				return nil, fmt.Errorf("dni: provider %q: %w", prov.Name(), err)
			}
			mux.Handle(p+"webhooks/"+prov.Name(), h)
			s.webhooks = append(s.webhooks, h)
		}
	}
	for _, wh := range s.cfg.ChatWebhooks {
		mux.Handle(p+"v1/chat/"+wh.Platform(), chat.Handler(wh, s, chat.HandlerOptions{Now: s.now, Logger: s.log}))
	}
	reports := s.reportsHandler()
	if s.reportAuth != nil {
		mux.Handle(p+"reports/", s.reportAuth(http.StripPrefix(strings.TrimSuffix(p, "/"), reports)))
	}
	return mux, nil
}

// apiError is the JSON body of every error answer of the tracker API.
type apiError struct {
	Error string `json:"error"`
}

// api wraps one tracker endpoint: CORS, method, rate limit, size limit,
// and a deadline (Config.APITimeout) under the tracker's own.
func (s *Service) api(serve func(w http.ResponseWriter, r *http.Request, body []byte) (any, int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(s.cfg.AllowedOrigins, origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.Header().Add("Vary", "Origin")
		}
		switch r.Method {
		case http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "POST, OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"use POST"})
			return
		}
		if !s.limits.allowIP(clientIP(r, s.cfg.TrustForwardedFor)) {
			writeJSON(w, http.StatusTooManyRequests, apiError{"too many requests from this address"})
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
			writeJSON(w, http.StatusUnsupportedMediaType, apiError{"send JSON (application/json or text/plain)"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeJSON(w, http.StatusRequestEntityTooLarge, apiError{fmt.Sprintf("body over %d bytes", s.cfg.MaxBodyBytes)})
				return
			}
			writeJSON(w, http.StatusBadRequest, apiError{"reading body: " + err.Error()})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.APITimeout)
		defer cancel()
		out, code, err := serve(w, r.WithContext(ctx), body)
		if err != nil {
			writeJSON(w, code, apiError{err.Error()})
			return
		}
		if out == nil {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, out)
	})
}

// decodeStrict reads exactly one JSON object with only known fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: data after the object")
	}
	return nil
}

func (s *Service) serveVisit(_ http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req VisitRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if req.VisitorID != "" && !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many visits from this visitor")
	}
	req.UserAgent = r.UserAgent()
	a, err := s.Visit(r.Context(), req)
	if err != nil {
		return nil, statusOf(err), err
	}
	return a, http.StatusOK, nil
}

type heartbeatRequest struct {
	VisitorID string `json:"visitor_id"`
	SessionID string `json:"session_id"`
}

func (s *Service) serveHeartbeat(_ http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req heartbeatRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many requests from this visitor")
	}
	a, err := s.Heartbeat(r.Context(), req.VisitorID, req.SessionID)
	if err != nil {
		return nil, statusOf(err), err
	}
	return a, http.StatusOK, nil
}

func (s *Service) serveEvents(_ http.ResponseWriter, r *http.Request, body []byte) (any, int, error) {
	var req EventsRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if !s.limits.allowVisitor(req.VisitorID) {
		return nil, http.StatusTooManyRequests, errors.New("too many requests from this visitor")
	}
	if err := s.RecordEvents(r.Context(), req); err != nil {
		return nil, statusOf(err), err
	}
	return nil, http.StatusAccepted, nil
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrInvalidID), errors.Is(err, ErrInvalidEvent):
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// clientIP is the address rate limits count by.
func clientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
