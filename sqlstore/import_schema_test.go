package sqlstore

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestImportCoversTheSchema fails when a migration adds a table or a
// column that taskwire import would not copy.
func TestImportCoversTheSchema(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Target{Dialect: "sqlite", Path: filepath.Join(t.TempDir(), "taskwire.db")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT IN ('goose_db_version', 'sqlite_sequence') ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	schema := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		schema[table] = append(schema[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	copied := map[string][]string{}
	for _, it := range importTables() {
		for _, c := range it.columns {
			copied[it.name] = append(copied[it.name], c.name)
		}
	}
	for table, cols := range schema {
		if strings.HasPrefix(table, "river_") {
			continue // jobs are not copied (see Import)
		}
		if table == "task_search" || strings.HasPrefix(table, "task_search_") {
			// The full-text index (an FTS5 table and its shadow tables) is
			// derived from tasks and comments: on PostgreSQL, the triggers
			// of migration 00006 build it as Import copies their rows.
			continue
		}
		got, ok := copied[table]
		if !ok {
			t.Errorf("taskwire import does not copy table %s (add it to importTables)", table)
			continue
		}
		for _, c := range cols {
			if !slices.Contains(got, c) {
				t.Errorf("taskwire import does not copy %s.%s (add it to importTables)", table, c)
			}
		}
	}
}
