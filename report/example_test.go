package report_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/attriqs/calltrack/report"
)

// A cost report read from CSV becomes the spend columns of a daily series.
func ExampleBuildSeries() {
	spend, err := report.ReadSpendCSV(strings.NewReader(`day,channel,source,medium,campaign,currency,amount
2026-03-02,Paid Search,google,cpc,spring_sale,USD,120.50
2026-03-03,Paid Social,facebook,paid,brand,USD,40
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	s, err := report.BuildSeries(nil, spend, report.SeriesOptions{From: from, To: from.AddDate(0, 0, 3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.WriteWide(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// date,conversions,revenue,calls,qualified_calls,call_revenue,chats,forms,spend,paid_search_calls,paid_search_qualified_calls,paid_search_call_revenue,paid_search_chats,paid_search_forms,paid_search_spend,paid_social_calls,paid_social_qualified_calls,paid_social_call_revenue,paid_social_chats,paid_social_forms,paid_social_spend
	// 2026-03-02,0,0.00,0,0,0.00,0,0,120.50,0,0,0.00,0,0,120.50,0,0,0.00,0,0,0.00
	// 2026-03-03,0,0.00,0,0,0.00,0,0,40.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,40.00
	// 2026-03-04,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00
}
