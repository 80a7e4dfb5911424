package dni

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/store"
)

// ClickPlatform groups touchpoints by the ad platform whose click id
// brought them ("Microsoft Ads", "Google Ads"); touchpoints without a click
// id fall in [attribution.UnknownKey].
func ClickPlatform(tp journey.Touchpoint) string { return tp.Source.ClickID.Platform }

// ConversionCredit returns the share of a conversion (0 to 1) that model
// credits to the touchpoints whose key is group: with key [ClickPlatform]
// and group "Microsoft Ads", what the model says Microsoft Ads earned. The
// conversion's journey is built as [Service.Journeys] builds it (the
// person's touchpoints within attribution.DefaultLookback before it) and
// credited as [Service.Attribute] credits it; key nil means
// attribution.ByChannel, group "" the touchpoints with no key. A
// conversion no counted touchpoint explains earns every group 0.
//
// The journey is the one the reports credit, the converting call's own
// touchpoint included (it carries its session's source), so an ad
// platform is told the share the dashboard shows: linear over Email →
// Microsoft Ads → call gives Microsoft Ads 2/3.
//
// The conversion is found by its touchpoint (a call's conversion has the
// call's id, journey.CallConversionID); others are found through
// [Service.CreditFor], which knows their time. A conversion not in the
// store is an error wrapping store.ErrNotFound.
//
// The share is of this one journey. Data-driven models (Markov, Shapley)
// learn their weights from many journeys and see only this one here, so
// pass them for per-conversion credit only with that in mind; the rule
// models (first, last, linear, time decay, position based) need nothing
// else.
func (s *Service) ConversionCredit(ctx context.Context, conversionID string, model attribution.Model, key attribution.KeyFunc, group string) (float64, error) {
	tp, err := s.store.Touchpoint(ctx, conversionID)
	if err != nil {
		return 0, fmt.Errorf("dni: conversion %q: %w", conversionID, err)
	}
	return s.creditAt(ctx, conversionID, tp.At, model, key, group)
}

// CreditFor returns a function giving each exported conversion's credit
// under model to group, with the model's name: what an ad platform sink
// that takes externally attributed credit asks for (the Microsoft Ads
// sink's Config.Credit). Events without a conversion are an error.
func (s *Service) CreditFor(model attribution.Model, key attribution.KeyFunc, group string) func(context.Context, export.Event) (string, float64, error) {
	return func(ctx context.Context, ev export.Event) (string, float64, error) {
		if model == nil {
			return "", 0, errors.New("dni: credit: model is nil")
		}
		if ev.Conversion == nil {
			return model.Name(), 0, errors.New("dni: credit: the event carries no conversion")
		}
		credit, err := s.creditAt(ctx, ev.Conversion.ID, ev.Conversion.At, model, key, group)
		return model.Name(), credit, err
	}
}

// creditWindow is how far around its recorded time a conversion is looked
// for: stores keep times to the microsecond or the millisecond.
const creditWindow = time.Second

func (s *Service) creditAt(ctx context.Context, conversionID string, at time.Time, model attribution.Model, key attribution.KeyFunc, group string) (float64, error) {
	if model == nil {
		return 0, errors.New("dni: credit: model is nil")
	}
	if key == nil {
		key = attribution.ByChannel
	}
	if group == "" {
		group = attribution.UnknownKey
	}
	journeys, err := s.Journeys(ctx, at.Add(-creditWindow), at.Add(creditWindow), attribution.DefaultLookback)
	if err != nil {
		return 0, err
	}
	var j *attribution.Journey
	for i := range journeys {
		if c := journeys[i].Conversion; c != nil && c.ID == conversionID {
			j = &journeys[i]
			break
		}
	}
	if j == nil {
		return 0, fmt.Errorf("dni: conversion %q: %w", conversionID, store.ErrNotFound)
	}
	res, err := model.Attribute([]attribution.Journey{*j}, attribution.Options{Key: key, Currency: j.Conversion.Currency})
	if err != nil {
		return 0, fmt.Errorf("dni: credit of conversion %q under %s: %w", conversionID, model.Name(), err)
	}
	share := 0.0
	for _, tc := range res.Touchpoints {
		if tc.JourneyID == j.ID && tc.Key == group {
			share += tc.Conversions
		}
	}
	// Shares are sums of fractions: keep float error from leaving [0, 1].
	return min(max(share, 0), 1), nil
}
