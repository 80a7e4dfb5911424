package store

import (
	"context"
	"time"

	"github.com/attriqs/calltrack/journey"
)

// Spends keeps what was spent per traffic source and day, for cost per
// call and return on ad spend. Spend names no person: erasing one
// ([Retention.ErasePerson]) leaves it, and [Retention.DeleteBefore] keeps
// it too, since it is the business's own accounting, not visitor data.
type Spends interface {
	// PutSpend upserts each row keyed by (Day, Channel, Source, Medium,
	// Campaign, Currency): the amount of a key written again replaces the
	// stored one, so a corrected cost report may be imported over the
	// first. The rows are written in one transaction: all of them or, when
	// any is invalid ([journey.Spend.Validate]), none, with an error naming
	// the row. When a key repeats in one call, the last row wins.
	PutSpend(ctx context.Context, rows ...journey.Spend) error
	// SpendBetween returns the rows whose Day is in [from, to), ordered by
	// Day, then Channel, Source, Medium, Campaign and Currency.
	SpendBetween(ctx context.Context, from, to time.Time) ([]journey.Spend, error)
}
