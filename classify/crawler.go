package classify

// crawlerMarks are fragments of the user agents of search engine crawlers,
// link previewers, monitors and HTTP libraries. They are matched without
// regard to case. A crawler gets no tracking number: search engines must
// index the business's real number.
var crawlerMarks = []string{
	"bot/", "bot-", "bot;", "crawler", "spider", "slurp", "facebookexternalhit",
	"mediapartners-google", "google-inspectiontool", "lighthouse", "pingdom", "ia_archiver",
	"curl/", "wget/", "python-requests", "go-http-client", "okhttp",
}

// marksByFirstByte files crawlerMarks under their first byte, so IsCrawler
// reads the user agent once and compares only where a mark could start.
var marksByFirstByte = func() (t [256][]string) {
	for _, m := range crawlerMarks {
		t[m[0]] = append(t[m[0]], m)
	}
	return t
}()

// IsCrawler reports whether userAgent belongs to a crawler or a script
// rather than a person's browser.
func IsCrawler(userAgent string) bool {
	for i := 0; i < len(userAgent); i++ {
		for _, m := range marksByFirstByte[lower(userAgent[i])] {
			if hasPrefixFold(userAgent[i:], m) {
				return true
			}
		}
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring case in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		if lower(s[j]) != prefix[j] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
