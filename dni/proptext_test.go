package dni

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Numbers are kept as JavaScript's String writes them.
func TestPropTextWritesNumbersAsJavaScript(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", math.Copysign(0, -1): "0", 12.5: "12.5", -3: "-3", 1e-6: "0.000001",
		1e-7: "1e-7", -1.5e-7: "-1.5e-7", 1e21: "1e+21", 123456789012345680000: "123456789012345680000",
	} {
		got, ok := propText(v)
		assert.True(t, ok)
		assert.Equal(t, want, got, "%v", v)
	}
}
