package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/attriqs/calltrack/store/sqlite"
)

// Open needs no driver import: the package registers modernc.org/sqlite.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "calltrack-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "calltrack.db"), sqlite.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Println("opened and migrated")
	// Output: opened and migrated
}
