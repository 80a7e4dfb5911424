package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export/googleadsapi"

	"github.com/attriqs/calltrack/internal/cli"
)

// The environment variables keywords reads its Google Ads secrets from:
// flags would show them in ps and in shell history.
const (
	envDeveloperToken = "GOOGLE_ADS_DEVELOPER_TOKEN"
	envClientSecret   = "GOOGLE_ADS_CLIENT_SECRET"
	envRefreshToken   = "GOOGLE_ADS_REFRESH_TOKEN"
)

func runKeywords(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlagSet("keywords", stderr)
	storeURL := fs.String("store", "", "the store: sqlite:PATH or postgres://... (required; opened for writing)")
	fromFlag := fs.String("from", "", "first day of sessions, YYYY-MM-DD in -tz (required; at most 89 days ago: Google keeps 90 days of clicks and a session just after midnight is also looked up on the day before)")
	toFlag := fs.String("to", "", "last day of sessions, included, YYYY-MM-DD in -tz (required; today at the latest)")
	tz := fs.String("tz", "UTC", "the Google Ads account's time zone (IANA name, such as America/New_York): Google dates clicks in it")
	customerID := fs.String("customer-id", "", "the Google Ads account whose clicks are read, ten digits, dashes allowed (required)")
	loginCustomerID := fs.String("login-customer-id", "", "the manager account the credentials act through; empty when they belong to -customer-id")
	clientID := fs.String("client-id", "", "the OAuth 2 client id the refresh token was granted to (required)")
	configFile := fs.String("config", "", "JSON file naming the pools, as serve's -config; default: the pools in the store's last 90 days of holds (the service needs pools; keywords uses none)")
	apiURL := fs.String("api-url", googleadsapi.DefaultBaseURL, "the Google Ads API's address (a proxy's, say)")
	tokenURL := fs.String("token-url", endpoints.Google.TokenURL, "the OAuth 2 token endpoint the refresh token is exchanged at")
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintf(fs.Output(), `
Environment (secrets are read from it, never from flags):
  %s  the Google Ads API developer token (required)
  %s    the OAuth 2 client secret of -client-id (required)
  %s    the OAuth 2 refresh token, granted for the adwords scope (required)
`, envDeveloperToken, envClientSecret, envRefreshToken)
	}
	secrets := map[string]string{}
	missing := func() error {
		var names []string
		for _, f := range []struct{ name, v string }{{"-store", *storeURL}, {"-from", *fromFlag}, {"-to", *toFlag},
			{"-customer-id", *customerID}, {"-client-id", *clientID}} {
			if strings.TrimSpace(f.v) == "" {
				names = append(names, f.name)
			}
		}
		for _, env := range []string{envDeveloperToken, envClientSecret, envRefreshToken} {
			secrets[env] = strings.TrimSpace(os.Getenv(env))
			if secrets[env] == "" {
				names = append(names, env)
			}
		}
		if len(names) > 0 {
			return fmt.Errorf("missing %s (-h tells what each is)", strings.Join(names, ", "))
		}
		return nil
	}
	if err := cli.ParseCommand(fs, args, stderr, missing); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return cli.FlagError("tz", "%q is not an IANA time zone such as America/New_York", *tz)
	}
	from, to, err := keywordDays(*fromFlag, *toFlag, loc, now())
	if err != nil {
		return err
	}
	sink, err := googleadsapi.New(googleadsapi.Config{
		ReadOnly: true, CustomerID: *customerID, LoginCustomerID: *loginCustomerID,
		DeveloperToken: secrets[envDeveloperToken], ClientID: *clientID,
		ClientSecret: secrets[envClientSecret], RefreshToken: secrets[envRefreshToken],
		BaseURL: *apiURL, TokenURL: *tokenURL, Now: now,
	})
	if err != nil {
		return keywordConfigError(err)
	}

	cfg, err := readServeConfig(*configFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, closeStore, err := openStore(ctx, *storeURL, false)
	if err != nil {
		return err
	}
	defer closeStore()
	// The pools' messages are for the dashboard: keywords touches no pool.
	pools, err := servePools(ctx, cfg, st, now(), io.Discard)
	if err != nil {
		return err
	}
	svc, err := dni.New(dni.Config{Pools: pools}, dni.WithStore(st),
		dni.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))), dni.WithClock(now))
	if err != nil {
		return cli.FlagError("config", "%v", err)
	}
	n, err := svc.ApplyClickKeywords(ctx, from, to, sink)
	// A run cut short keeps what it filled, and says how much.
	fmt.Fprintf(stdout, "%d of the sessions of %s to %s (%s) filled with their Google Ads click's keyword\n",
		n, from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly), loc)
	return errors.Join(googleAdsHint(err), svc.Close())
}

// googleAdsHint adds to an error of Google's the flag or environment
// variable that is likely at fault.
func googleAdsHint(err error) error {
	var re *oauth2.RetrieveError
	var ae *googleadsapi.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return fmt.Errorf("%w (the token endpoint refused the refresh token: check -client-id, %s and %s)", err, envClientSecret, envRefreshToken)
	case !errors.As(err, &ae):
		return err
	case slices.ContainsFunc(ae.Reasons, func(r string) bool { return strings.Contains(r, "DEVELOPER_TOKEN") }):
		return fmt.Errorf("%w (check %s)", err, envDeveloperToken)
	case slices.ContainsFunc(ae.Reasons, func(r string) bool { return strings.Contains(r, "CUSTOMER") }),
		ae.Status == "PERMISSION_DENIED":
		return fmt.Errorf("%w (check -customer-id and -login-customer-id)", err)
	case ae.Status == "UNAUTHENTICATED":
		return fmt.Errorf("%w (check -client-id, %s and %s)", err, envClientSecret, envRefreshToken)
	}
	return err
}

// keywordDays reads -from and -to, whole days in loc, -to included, as
// the half-open period [from, to) ApplyClickKeywords takes. It refuses
// days Google's click_view does not have: a session of the first day just
// after midnight is also looked up on the day before, which must be
// within the 90 days too.
func keywordDays(fromFlag, toFlag string, loc *time.Location, now time.Time) (from, to time.Time, err error) {
	parse := func(name, v string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			return t, cli.FlagError(name, "%q is not a day YYYY-MM-DD", v)
		}
		return t, nil
	}
	if from, err = parse("from", fromFlag); err != nil {
		return from, to, err
	}
	last, err := parse("to", toFlag)
	if err != nil {
		return from, to, err
	}
	today := now.In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	oldest := today.AddDate(0, 0, -(googleadsapi.ClickViewDays - 1))
	switch {
	case last.Before(from):
		return from, to, cli.FlagError("to", "%s is before -from %s", toFlag, fromFlag)
	case last.After(today):
		return from, to, cli.FlagError("to", "%s has not begun in %s (today is %s)", toFlag, loc, today.Format(time.DateOnly))
	case from.Before(oldest):
		return from, to, cli.FlagError("from", "%s is too long ago: Google keeps %d days of clicks, so the first day can be %s (the day before it is read too)",
			fromFlag, googleadsapi.ClickViewDays, oldest.Format(time.DateOnly))
	}
	return from, last.AddDate(0, 0, 1), nil
}

// keywordConfigError names, in googleadsapi's complaints about its
// Config, the flag or environment variable each field came from.
func keywordConfigError(err error) error {
	msg := err.Error()
	for _, r := range []struct{ field, flag string }{
		{"Config.CustomerID", "-customer-id"}, {"Config.LoginCustomerID", "-login-customer-id"},
		{"Config.DeveloperToken", envDeveloperToken}, {"Config.ClientID", "-client-id"},
		{"Config.ClientSecret", envClientSecret}, {"Config.RefreshToken", envRefreshToken},
		{"Config.BaseURL", "-api-url"}, {"Config.TokenURL", "-token-url"},
	} {
		msg = strings.ReplaceAll(msg, r.field, r.flag)
	}
	msg = strings.ReplaceAll(msg, "googleadsapi: ", "")
	return fmt.Errorf("%w: keywords: %s", cli.ErrUsage, strings.ReplaceAll(msg, "\n", "; "))
}
