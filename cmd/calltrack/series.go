package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

func runSeries(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlagSet("series", stderr)
	read := addReadFlags(fs)
	granularity := fs.String("granularity", "day", "period of a row: day, or week (ISO weeks, Monday to Sunday, dated by the Monday)")
	byCampaign := fs.Bool("campaign", false, "split every channel by campaign")
	layout := fs.String("layout", "wide", "wide: a row per date and a column per channel metric, as Robyn's and Meridian's examples read; long: a row per date, channel and metric")
	currency := fs.String("currency", "", "ISO 4217 code of the money columns; default the one currency of the period's conversions and spend")
	out := fs.String("out", "", "output file; default standard output")
	if err := cli.ParseCommand(fs, args, stderr, cli.WritableFile("out", out)); err != nil {
		return err
	}
	opts := report.SeriesOptions{ByCampaign: *byCampaign, Currency: strings.ToUpper(*currency)}
	switch report.Granularity(*granularity) {
	case report.Daily, report.Weekly:
		opts.Granularity = report.Granularity(*granularity)
	default:
		return cli.FlagError("granularity", "%q is neither day nor week", *granularity)
	}
	if *layout != "wide" && *layout != "long" {
		return cli.FlagError("layout", "%q is neither wide nor long", *layout)
	}
	if c := opts.Currency; c != "" && (len(c) != 3 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		return cli.FlagError("currency", "%q is not a three-letter ISO 4217 code such as USD", *currency)
	}
	var err error
	if opts.From, opts.To, err = read.period(now()); err != nil {
		return err
	}
	ctx := context.Background()
	st, closeStore, err := read.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	series, err := buildSeries(ctx, st, opts)
	if err != nil {
		return err
	}
	write := series.WriteWide
	if *layout == "long" {
		write = series.WriteLong
	}
	if *out == "" {
		return write(stdout)
	}
	return cli.WriteFile(*out, write)
}

// buildSeries is dni.Service.Series without a service (which needs the
// pools' configuration): the period's journeys as Service.Journeys reads
// them (the default lookback; only touchpoints and conversions inside the
// period are counted) and its spend, through report.BuildSeries. A test
// holds the two equal.
func buildSeries(ctx context.Context, st store.Store, opts report.SeriesOptions) (*report.Series, error) {
	journeys, err := st.JourneysBetween(ctx, opts.From, opts.To, attribution.DefaultLookback)
	if err != nil {
		return nil, fmt.Errorf("reading journeys: %w", err)
	}
	spend, err := st.SpendBetween(ctx, opts.From, opts.To)
	if err != nil {
		return nil, fmt.Errorf("reading spend: %w", err)
	}
	series, err := report.BuildSeries(journeys, spend, opts)
	if err != nil {
		if errors.Is(err, report.ErrSeveralCurrencies) {
			return nil, cli.FlagError("currency", "is needed: %v", err)
		}
		return nil, err
	}
	return series, nil
}
