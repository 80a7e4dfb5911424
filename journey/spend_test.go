package journey

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSpendValidateNamesEveryBadField(t *testing.T) {
	ok := Spend{Day: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Channel: "Paid Search", Currency: "USD", Amount: 1}
	require.NoError(t, ok.Validate())
	inZone := ok
	inZone.Day = ok.Day.In(time.FixedZone("UTC+9", 9*3600))
	require.NoError(t, inZone.Validate(), "a UTC midnight in another zone is still that day")
	onlyCampaign := Spend{Day: ok.Day, Campaign: "spring", Currency: "JPY"}
	require.NoError(t, onlyCampaign.Validate())

	err := Spend{Day: ok.Day.Add(time.Hour), Currency: "usd", Amount: -1}.Validate()
	require.Error(t, err)
	for _, field := range []string{"day", "channel, source, medium and campaign", "currency", "amount"} {
		require.Contains(t, err.Error(), field)
	}
	require.ErrorContains(t, Spend{Channel: "x", Currency: "USD"}.Validate(), "day is zero")
}
