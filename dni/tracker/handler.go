package tracker

import (
	"net/http"
	"strconv"
	"strings"
)

// ShortMaxAge is the Cache-Control max-age (seconds) of a request without
// the current hash in its v parameter: a page that links the script
// without ?v= picks up a new build within five minutes.
const ShortMaxAge = 300

// Handler serves the script at whatever path it is mounted on (GET and
// HEAD): a strong ETag per encoding, If-None-Match answered with 304,
// gzip when Accept-Encoding allows it (with Vary), and
// "public, max-age=31536000, immutable" when the v query parameter is the
// script's hash, a short max-age otherwise.
func (s *Script) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *Script) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == s.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(ShortMaxAge))
	}
	body, enc, tag := s.min, "", s.hash
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, enc, tag = s.gz, "gzip", s.hash+"-gz"
	}
	etag := `"` + tag + `"`
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// acceptsGzip reports whether the Accept-Encoding header gives gzip (by name,
// else by *) a q-value above zero; the first mention of a name counts.
func acceptsGzip(accept string) bool {
	gzip, star := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					f = 0
				}
				v = f
			}
		}
		if name == "gzip" && gzip < 0 {
			gzip = v
		} else if name == "*" && star < 0 {
			star = v
		}
	}
	if gzip >= 0 {
		return gzip > 0
	}
	return star > 0
}

// etagMatch reports whether the If-None-Match header lists etag (weak
// comparison, as RFC 9110 prescribes for If-None-Match) or is "*".
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
