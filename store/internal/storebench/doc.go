// Package storebench holds what the adapters' benchmarks share: a
// deterministic history of number holds ([History], [Million]), the
// HoldersAt latency benchmark reporting p50 and p99 ([HoldersAt]) and the
// session insert benchmarks ([PutSession], [PutSessions]).
//
// # Running
//
// The 1,000,000-hold benchmarks load their data first and run only with
// CALLTRACK_BIG=1; see the bench_test.go files of store/sqlite and
// store/postgres for the commands.
package storebench
