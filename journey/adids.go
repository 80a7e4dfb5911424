package journey

// AdIDs are the ad platforms' browser identifiers and consent signals of a
// session, read by the tracker: what the platforms' server-to-server
// conversion APIs match a conversion with when it has no click id, or
// alongside one. The tracker fills them only when the visitor consented to
// ads measurement (Consent); without it they are empty and nothing about
// the session is sent to an ad platform.
type AdIDs struct {
	// Consent: the visitor consented to their conversions being reported
	// to ad platforms (the tracker's ads consent, or Google Consent Mode's
	// ad_user_data granted). False sends nothing.
	Consent bool `json:"consent,omitempty"`
	// GAClientID is the Google Analytics client id from the _ga cookie
	// ("1234567890.1700000000"); GASessionID the session id from the
	// stream's _ga_<id> cookie.
	GAClientID  string `json:"ga_client_id,omitempty"`
	GASessionID string `json:"ga_session_id,omitempty"`
	// FBP is Meta's browser id (the _fbp cookie); FBC its click id (the
	// _fbc cookie, or "fb.1.<ms>.<fbclid>" built from the landing URL).
	FBP string `json:"fbp,omitempty"`
	FBC string `json:"fbc,omitempty"`
	// AdUserData and AdPersonalization are Google Consent Mode's signals
	// as the page set them: "granted", "denied", or "" when the site does
	// not use Consent Mode. User data (hashed phone, email) is never sent
	// to Google when AdUserData is "denied".
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

// IsZero reports whether nothing was captured.
func (a AdIDs) IsZero() bool { return a == AdIDs{} }

// SharesUserData reports whether hashed user data (phone, email) may go to
// Google with the conversion: consent given and Consent Mode not denying
// it.
func (a AdIDs) SharesUserData() bool { return a.Consent && a.AdUserData != "denied" }
