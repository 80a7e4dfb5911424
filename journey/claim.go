package journey

import (
	"errors"
	"fmt"
	"time"
)

// Claim records that a browser session said an identifier was its own: a
// chat platform's contact or conversation id the tracker reported. Anyone
// can post to the tracker's endpoint, so a claim is no proof: it never
// merges persons, and several sessions may claim one identifier. A
// verified source (a chat platform's signed webhook) may later choose one
// claim and link the identifier to its visitor.
type Claim struct {
	ID        Identifier `json:"id"`
	SessionID string     `json:"session_id"`
	VisitorID string     `json:"visitor_id"`
	// At is when the claim was first made, by our clock (not the
	// browser's, which the claimant chooses): the earliest claim is the
	// one a verified source joins.
	At time.Time `json:"at"`
}

// Validate reports every missing or invalid field, each named.
func (c Claim) Validate() error {
	var errs []error
	if err := c.ID.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("claim: %w", err))
	}
	if c.SessionID == "" {
		errs = append(errs, errors.New("claim: session_id is empty"))
	}
	if c.VisitorID == "" {
		errs = append(errs, errors.New("claim: visitor_id is empty"))
	}
	if c.At.IsZero() {
		errs = append(errs, errors.New("claim: at is zero"))
	}
	return errors.Join(errs...)
}
