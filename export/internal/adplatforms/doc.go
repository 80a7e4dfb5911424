// Package adplatforms holds no code: its tests run one dni.Service that
// exports to all four ad-platform sinks at once (export/googleadsapi,
// export/ga4, export/meta, export/microsoftads) against httptest
// stand-ins of their APIs, and check that each qualified call reaches
// exactly the platforms its visit came from, once, that a value changed
// later is exactly one adjustment on each, and that nothing at all is
// sent without ads consent.
//
// # Why a package of its own
//
// Each sink's package tests it alone with stand-ins that are unexported
// test code; only together do the sinks show that one platform's click
// is not sent to another, so the stand-ins here are small ones of their
// own, written from the platforms' documented request and success
// shapes.
package adplatforms
