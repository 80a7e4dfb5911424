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

// marksByFirstByte files crawlerMarks under their first byte, and
// secondBytes holds, per first byte, the set of bytes that may follow it, so
// IsCrawler reads the user agent once and compares a whole mark only where
// its first two bytes already match.
var marksByFirstByte, secondBytes = func() (marks [256][]string, second [256][4]uint64) {
	for _, m := range crawlerMarks {
		marks[m[0]] = append(marks[m[0]], m)
		second[m[0]][m[1]/64] |= 1 << (m[1] % 64)
	}
	return marks, second
}()

// IsCrawler reports whether userAgent belongs to a crawler or a script
// rather than a person's browser.
func IsCrawler(userAgent string) bool {
	for i := 0; i+1 < len(userAgent); i++ {
		c0, c1 := lower(userAgent[i]), lower(userAgent[i+1])
		if secondBytes[c0][c1/64]&(1<<(c1%64)) == 0 {
			continue
		}
		for _, m := range marksByFirstByte[c0] {
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
