package sqlite_test

import "os"

// tempDir makes a directory for data shared by several benchmark runs in
// one process; it is removed by TestMain.
func tempDir() (string, error) {
	if shared.dir == "" {
		d, err := os.MkdirTemp("", "calltrack-sqlite-bench-")
		if err != nil {
			return "", err
		}
		shared.dir = d
	}
	return shared.dir, nil
}

var shared struct{ dir string }
