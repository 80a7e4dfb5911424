package poolmock

// The mock is generated from pool.Allocator; regenerate it after the
// interface changes.
//go:generate go run go.uber.org/mock/mockgen@v0.6.0 -destination allocator.go -package poolmock -mock_names Allocator=Allocator github.com/attriqs/calltrack/pool Allocator
