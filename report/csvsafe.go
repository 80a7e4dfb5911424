package report

import (
	"strconv"
	"strings"
)

// SpreadsheetSafe keeps a spreadsheet from running a CSV cell as a
// formula: text from outside (campaign names, keywords, UTM tags) that
// starts with = + @, a tab or a carriage return, or with - when it is not
// a number, is written with a leading apostrophe. Numbers ("-5",
// "-$1,250.00") are left as they are.
func SpreadsheetSafe(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune("=+@\t\r", rune(s[0])) {
		return "'" + s
	}
	if s[0] == '-' {
		if _, err := strconv.ParseFloat(strings.NewReplacer(",", "", "$", "", "€", "", "£", "").Replace(s), 64); err != nil {
			return "'" + s
		}
	}
	return s
}
