package providertest

import (
	"errors"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

func (s *suite) signedRequestIsAccepted(t *testing.T) {
	if err := s.fx.Provider.Verify(s.signed(s.fx.Inbound(sample))); err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
}

func (s *suite) unsignedRequestIsRefused(t *testing.T) {
	if err := s.fx.Provider.Verify(s.fx.Inbound(sample)); !errors.Is(err, provider.ErrMissingSignature) {
		t.Fatalf("Verify = %v, want ErrMissingSignature", err)
	}
}

func (s *suite) requestMissingASignatureHeaderIsRefused(t *testing.T) {
	for _, h := range s.fx.SignatureHeaders {
		t.Run(h, func(t *testing.T) {
			r := s.signed(s.fx.Inbound(sample))
			r.Header.Del(h)
			err := s.fx.Provider.Verify(r)
			if !errors.Is(err, provider.ErrMissingSignature) && !errors.Is(err, provider.ErrMissingTimestamp) && !errors.Is(err, provider.ErrMissingNonce) {
				t.Fatalf("Verify without %s = %v, want a missing-signature sentinel", h, err)
			}
		})
	}
}

func (s *suite) requestSignedWithAnotherSecretIsRefused(t *testing.T) {
	r := s.fx.Inbound(sample)
	s.fx.SignWrongSecret(r, s.fx.Now)
	if err := s.fx.Provider.Verify(r); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("Verify = %v, want ErrBadSignature", err)
	}
}

func (s *suite) tamperedRequestIsRefused(t *testing.T) {
	if s.features.CredentialsOnly {
		t.Skip("the scheme signs nothing; only credentials are checked (Features.CredentialsOnly)")
	}
	r := s.tampered(t)
	err := s.fx.Provider.Verify(r)
	if !errors.Is(err, provider.ErrBadSignature) && !errors.Is(err, provider.ErrBodyHashMismatch) {
		t.Fatalf("Verify = %v, want ErrBadSignature or ErrBodyHashMismatch", err)
	}
}

// tampered returns a signed inbound webhook altered by the fixture's
// Tamper, failing t if Tamper changed nothing.
func (s *suite) tampered(t *testing.T) *provider.Request {
	t.Helper()
	r := s.signed(s.fx.Inbound(sample))
	before := string(r.Body) + r.URL
	s.fx.Tamper(r)
	if string(r.Body)+r.URL == before {
		t.Fatal("Tamper did not change the request")
	}
	return r
}

func (s *suite) timestampOutsideTheToleranceIsRefused(t *testing.T) {
	if !s.features.Timestamped {
		t.Skip("the scheme signs no timestamp (Features.Timestamped)")
	}
	tol := s.features.Tolerance
	for _, skew := range []time.Duration{-tol - time.Minute, tol + time.Minute} {
		r := s.fx.Inbound(sample)
		s.fx.Sign(r, s.fx.Now.Add(skew))
		if err := s.fx.Provider.Verify(r); !errors.Is(err, provider.ErrStaleTimestamp) {
			t.Fatalf("Verify signed %s from now = %v, want ErrStaleTimestamp", skew, err)
		}
	}
}

func (s *suite) timestampWithinTheToleranceIsAccepted(t *testing.T) {
	if !s.features.Timestamped {
		t.Skip("the scheme signs no timestamp (Features.Timestamped)")
	}
	r := s.fx.Inbound(sample)
	s.fx.Sign(r, s.fx.Now.Add(-s.features.Tolerance/2))
	if err := s.fx.Provider.Verify(r); err != nil {
		t.Fatalf("Verify = %v, want nil", err)
	}
}
