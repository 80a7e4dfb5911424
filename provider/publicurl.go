package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// publicURLHint names the likely fix when a webhook's signature fails
// because the URL the vendor signed is not the URL the handler rebuilt:
// URL-signing schemes (Twilio, SignalWire, Plivo) sign the exact public URL,
// and behind a TLS-terminating proxy the request looks like
// http://internal-host. It returns log attributes ("hint", text) when the
// request shows signs of a proxy (X-Forwarded-Proto, X-Forwarded-Host,
// Forwarded or X-Forwarded-For) that PublicURL does not already account
// for, or when its Host differs from PublicURL's host; nil otherwise.
func publicURLHint(r *http.Request, pub *url.URL) []any {
	if hint := proxyHint(r, pub); hint != "" {
		if len(hint) > 600 {
			hint = hint[:600] + "…"
		}
		return []any{"hint", hint}
	}
	return nil
}

func proxyHint(r *http.Request, pub *url.URL) string {
	proto, host, via := forwardedOrigin(r.Header)
	if via != "" {
		if proto == "" {
			proto = "https" // vendors call production webhooks over TLS
		}
		if host == "" {
			host = r.Host
		}
		want := proto + "://" + host
		if pub == nil {
			return fmt.Sprintf("set PublicURL to %s: the request came through a proxy (%s) and PublicURL is empty, so the URL checked against the signature was rebuilt from the proxied request (%s)",
				want, via, rebuiltOrigin(r))
		}
		if !strings.EqualFold(pub.Scheme, proto) || !strings.EqualFold(pub.Host, host) {
			return fmt.Sprintf("set PublicURL to %s if that is the URL the vendor calls: the proxy says the request was for %s (%s) but PublicURL is %s",
				want, want, via, pub.Scheme+"://"+pub.Host)
		}
		return ""
	}
	if pub != nil && r.Host != "" && !strings.EqualFold(r.Host, pub.Host) {
		return fmt.Sprintf("set PublicURL to %s://%s if that is the URL the vendor calls: the request's Host %q differs from PublicURL's host %q",
			pub.Scheme, r.Host, r.Host, pub.Host)
	}
	return ""
}

// forwardedOrigin reads the scheme and host a proxy says the client asked
// for, from Forwarded (RFC 7239) or the X-Forwarded-* headers, taking the
// first (client-side) entry of each; via describes the headers found, empty
// when there are none.
func forwardedOrigin(h http.Header) (proto, host, via string) {
	var seen []string
	if f := h.Get("Forwarded"); f != "" {
		seen = append(seen, "Forwarded: "+clip(f))
		first, _, _ := strings.Cut(f, ",")
		for _, pair := range strings.Split(first, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"`)
			switch strings.ToLower(k) {
			case "proto":
				proto = v
			case "host":
				host = v
			}
		}
	}
	for _, name := range []string{"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-For"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		seen = append(seen, name+": "+clip(v))
		first, _, _ := strings.Cut(v, ",")
		first = strings.TrimSpace(first)
		switch name {
		case "X-Forwarded-Proto":
			if proto == "" {
				proto = first
			}
		case "X-Forwarded-Host":
			if host == "" {
				host = first
			}
		}
	}
	return strings.ToLower(proto), host, strings.Join(seen, ", ")
}

// rebuiltOrigin is the scheme and host the handler derives from a request
// when PublicURL is empty (see Handler.requestURL).
func rebuiltOrigin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// clip bounds a header value quoted in a log line; a client chooses it.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
