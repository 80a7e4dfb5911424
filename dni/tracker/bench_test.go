package tracker

import "testing"

// BenchmarkBuild is what dni.New pays for the script: Build with a typical
// config (docs/benchmarks.md, "The browser tracker").
func BenchmarkBuild(b *testing.B) {
	cfg := Config{Selectors: []string{".call-us"}, HideUntilSwapped: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
