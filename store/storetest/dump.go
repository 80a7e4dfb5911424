package storetest

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// DumpSQL returns every value of every column of every table of db as
// text, each written "table.column=value": what a store over db holds, for
// [Features.Dump]. Tables are found in the catalogue (SQLite's
// sqlite_master, else the information schema of the current schema), so a
// table added by a later migration is searched too. Bytes are read as
// text.
func DumpSQL(t testing.TB, db *sql.DB) []string {
	t.Helper()
	ctx := t.Context()
	tables, err := column(db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		tables, err = column(db, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	}
	if err != nil {
		t.Fatalf("storetest: list the tables: %v", err)
	}
	if len(tables) == 0 {
		t.Fatalf("storetest: the database has no tables")
	}
	var out []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
		if err != nil {
			t.Fatalf("storetest: read table %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			t.Fatalf("storetest: read table %s: %v", table, err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				t.Fatalf("storetest: read table %s: %v", table, err)
			}
			for i, v := range vals {
				out = append(out, table+"."+cols[i]+"="+text(v))
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			t.Fatalf("storetest: read table %s: %v", table, err)
		}
	}
	return out
}

func column(db *sql.DB, query string) ([]string, error) {
	rows, err := db.Query(query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	case string:
		return v
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// DumpMemory returns every string and byte slice reachable from v (map keys
// and values, struct fields exported or not, through pointers and
// interfaces) as text, each written "path=value": what an in-memory store
// holds, for [Features.Dump]. Functions and channels are skipped.
func DumpMemory(v any) []string {
	d := dumper{seen: map[uintptr]bool{}}
	d.walk("", reflect.ValueOf(v))
	return d.out
}

type dumper struct {
	out  []string
	seen map[uintptr]bool
}

func (d *dumper) walk(path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		d.out = append(d.out, path+"="+v.String())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			d.out = append(d.out, path+"="+string(v.Bytes()))
			return
		}
		for i := range v.Len() {
			d.walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			d.walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			d.walk(path+"{key}", it.Key())
			d.walk(path+"{value}", it.Value())
		}
	case reflect.Pointer:
		if v.IsNil() || d.seen[v.Pointer()] {
			return
		}
		d.seen[v.Pointer()] = true
		d.walk(path, v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			d.walk(path, v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			d.walk(path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	}
}
