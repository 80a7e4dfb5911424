package postgres_test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dropBenchSchemas()
	os.Exit(code)
}
