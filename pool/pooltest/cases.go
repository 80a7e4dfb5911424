package pooltest

func (s *suite) cases() []testCase {
	return []testCase{
		{"SameLiveSessionGetsSameNumberBack", s.sameLiveSessionGetsSameNumberBack},
		{"LiveSessionsGetDistinctNumbers", s.liveSessionsGetDistinctNumbers},
		{"LeaseExtendsExpiry", s.leaseExtendsExpiry},
		{"RenewExtendsExpiry", s.renewExtendsExpiry},
		{"LeaseExpiresAfterSessionWindow", s.leaseExpiresAfterSessionWindow},
		{"StaleTokenCannotRenewOrRelease", s.staleTokenCannotRenewOrRelease},
		{"TokenOfAnotherSessionIsRejected", s.tokenOfAnotherSessionIsRejected},
		{"ReleaseIsSafeToRetry", s.releaseIsSafeToRetry},
		{"UnknownPoolIsAnError", s.unknownPoolIsAnError},
		{"InvalidSessionIsAnError", s.invalidSessionIsAnError},
		{"NumberInCooldownWaitsWhileColderIsFree", s.numberInCooldownWaitsWhileColderIsFree},
		{"LeastRecentlyReleasedFirst", s.leastRecentlyReleasedFirst},
		{"CoolingNumberServedWhenNothingColder", s.coolingNumberServedWhenNothingColder},
		{"ExpiredLeaseFreesItsNumber", s.expiredLeaseFreesItsNumber},
		{"ExhaustionReusesLeastRecentlyActive", s.exhaustionReusesLeastRecentlyActive},
		{"ReuseKeepsBothHoldersInHistory", s.reuseKeepsBothHoldersInHistory},
		{"ExhaustionServesFallback", s.exhaustionServesFallback},
		{"ExhaustionServesOriginal", s.exhaustionServesOriginal},
		{"HoldersAtCoversCallGrace", s.holdersAtCoversCallGrace},
		{"HoldersAtUnknownNumberIsAnError", s.holdersAtUnknownNumberIsAnError},
		{"SweepEndsExpiredLeases", s.sweepEndsExpiredLeases},
		{"StatsCountsAddUp", s.statsCountsAddUp},
		{"ConcurrentSessionsNeverShareANumber", s.concurrentSessionsNeverShareANumber},
		{"ConcurrentLeasesOfOneSessionAgree", s.concurrentLeasesOfOneSessionAgree},
		{"ConcurrentChurnKeepsCountsConsistent", s.concurrentChurnKeepsCountsConsistent},
	}
}
