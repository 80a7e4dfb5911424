package googleadsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ClickViewDays is how far back Google keeps click_view: a query may ask
// for a day up to 90 days before the time of the request.
const ClickViewDays = 90

// ClickView is one click of the click_view report: a Google click id and
// the keyword that led to it.
type ClickView struct {
	GCLID string
	// Keyword is the keyword's text ("emergency plumber"); empty when the
	// click came from no keyword (a click outside the Search channel).
	Keyword string
	// MatchType is the keyword's match type: "EXACT", "PHRASE" or "BROAD".
	MatchType string
	// Criterion is the keyword's resource name,
	// "customers/<id>/adGroupCriteria/<ad group id>~<criterion id>".
	Criterion string
}

// clickViewQuery selects what a click tells of its keyword; click_view
// must be filtered to one day.
const clickViewQuery = "SELECT click_view.gclid, click_view.keyword, click_view.keyword_info.text, " +
	"click_view.keyword_info.match_type FROM click_view WHERE segments.date = '%s'"

// The JSON of GoogleAdsService.Search (REST: POST
// customers/{id}/googleAds:search). pageSize is not sent: Google refuses
// it (PAGE_SIZE_NOT_SUPPORTED) and answers pages of its own size.
type (
	searchRequest struct {
		Query     string `json:"query"`
		PageToken string `json:"pageToken,omitempty"`
	}
	searchResponse struct {
		Results []struct {
			ClickView struct {
				GCLID       string `json:"gclid"`
				Keyword     string `json:"keyword"`
				KeywordInfo struct {
					Text      string `json:"text"`
					MatchType string `json:"matchType"`
				} `json:"keywordInfo"`
			} `json:"clickView"`
		} `json:"results"`
		NextPageToken string `json:"nextPageToken"`
	}
)

// ClickViews returns the clicks of one day of the Google Ads account
// (Config.CustomerID), read from the click_view report through
// GoogleAdsService.Search, page after page. The day is day's calendar
// date in day's location, which should be the account's time zone: Google
// dates clicks in it. A day more than [ClickViewDays] before Config.Now,
// or after it, is refused without asking Google. Google's refusals are
// [*Error]s, classed as for uploads (see the package documentation).
func (s *Sink) ClickViews(ctx context.Context, day time.Time) ([]ClickView, error) {
	const op = "search click_view"
	date := day.Format(time.DateOnly)
	today := s.cfg.Now().In(day.Location())
	oldest := time.Date(today.Year(), today.Month(), today.Day()-ClickViewDays, 0, 0, 0, 0, day.Location()).Format(time.DateOnly)
	switch {
	case date < oldest:
		return nil, fmt.Errorf("googleadsapi: %s: day %s is more than %d days ago (Google keeps click_view from %s)", op, date, ClickViewDays, oldest)
	case date > today.Format(time.DateOnly):
		return nil, fmt.Errorf("googleadsapi: %s: day %s has not begun (today is %s)", op, date, today.Format(time.DateOnly))
	}
	endpoint := fmt.Sprintf("%s/%s/customers/%s/googleAds:search", s.cfg.BaseURL, s.cfg.Version, s.cfg.CustomerID)
	req := searchRequest{Query: fmt.Sprintf(clickViewQuery, date)}
	seen := map[string]bool{}
	var out []ClickView
	for {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, fmt.Errorf("googleadsapi: %s: encode: %w", op, err)
		}
		raw, err := s.call(ctx, op, endpoint, b)
		if err != nil {
			return nil, err
		}
		var page searchResponse
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("googleadsapi: %s: decode answer: %w", op, err)
		}
		for _, r := range page.Results {
			cv := r.ClickView
			if cv.GCLID == "" {
				continue
			}
			out = append(out, ClickView{GCLID: cv.GCLID, Keyword: cv.KeywordInfo.Text, MatchType: cv.KeywordInfo.MatchType, Criterion: cv.Keyword})
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		if seen[page.NextPageToken] {
			return nil, fmt.Errorf("googleadsapi: %s: Google answered the page token %q twice", op, page.NextPageToken)
		}
		seen[page.NextPageToken] = true
		req.PageToken = page.NextPageToken
	}
}

// ClickKeywords returns the keyword text of each click of day that came
// from a keyword, by gclid ([Sink.ClickViews]); clicks without one are
// left out. It is what dni.Service.ApplyClickKeywords asks.
func (s *Sink) ClickKeywords(ctx context.Context, day time.Time) (map[string]string, error) {
	views, err := s.ClickViews(ctx, day)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(views))
	for _, v := range views {
		if v.Keyword != "" {
			out[v.GCLID] = v.Keyword
		}
	}
	return out, nil
}
