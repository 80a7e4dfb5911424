package storetest

// groups lists every case, grouped by the role whose contract (the doc
// comments in package store) it enforces, in the order of that contract.
func (s *suite) groups() []group {
	gs := []group{
		{"Store", []testCase{
			{"ListsAreEmptyNotAnErrorWhenNothingMatches", s.listsAreEmptyNotAnErrorWhenNothingMatches},
		}},
		{"Sessions", []testCase{
			{"PutSessionRoundTripsEveryFieldInUTCMicroseconds", s.putSessionRoundTripsEveryFieldInUTCMicroseconds},
			{"PutSessionZeroLastSeenStaysZero", s.putSessionZeroLastSeenStaysZero},
			{"PutSessionUpsertReplacesBySameID", s.putSessionUpsertReplacesBySameID},
			{"PutSessionInvalidNamesFieldAndWritesNothing", s.putSessionInvalidNamesFieldAndWritesNothing},
			{"PutSessionsBatchStoresAllLastDuplicateWins", s.putSessionsBatchStoresAllLastDuplicateWins},
			{"PutSessionsInvalidMemberWritesNothing", s.putSessionsInvalidMemberWritesNothing},
			{"SessionMissingIsErrNotFound", s.sessionMissingIsErrNotFound},
			{"SessionsOfVisitorOrderedByStartThenID", s.sessionsOfVisitorOrderedByStartThenID},
		}},
		{"Leases", []testCase{
			{"RecordHoldStartTwiceIsOneHold", s.recordHoldStartTwiceIsOneHold},
			{"RecordHoldKeyIsNumberSessionAndFrom", s.recordHoldKeyIsNumberSessionAndFrom},
			{"RecordHoldEndSetsUntilInEitherOrder", s.recordHoldEndSetsUntilInEitherOrder},
			{"RecordHoldUntilOnlyMovesLaterReusedOnlyTurnsOn", s.recordHoldUntilOnlyMovesLaterReusedOnlyTurnsOn},
			{"RecordHoldKeepsNonZeroToken", s.recordHoldKeepsNonZeroToken},
			{"RecordHoldOtherPoolIsErrConflict", s.recordHoldOtherPoolIsErrConflict},
			{"RecordHoldInvalidNamesFieldAndWritesNothing", s.recordHoldInvalidNamesFieldAndWritesNothing},
			{"HoldersAtReturnsHoldsOverlappingGraceWindowOldestFirst", s.holdersAtReturnsHoldsOverlappingGraceWindowOldestFirst},
			{"HoldersAtOpenHoldIsLiveWithZeroUntil", s.holdersAtOpenHoldIsLiveWithZeroUntil},
			{"HoldersAtFindsLongHoldAmongManyShort", s.holdersAtFindsLongHoldAmongManyShort},
			{"HoldersAtUnknownNumberIsEmpty", s.holdersAtUnknownNumberIsEmpty},
			{"HoldsBetweenOverlapOrderedByFromNumberSession", s.holdsBetweenOverlapOrderedByFromNumberSession},
		}},
		{"Calls", []testCase{
			{"RecordCallRoundTripsEveryField", s.recordCallRoundTripsEveryField},
			{"RecordCallTwiceIsOneCall", s.recordCallTwiceIsOneCall},
			{"RecordCallConvergesInEveryOrderLateRingingNeverOverwritesCompleted", s.recordCallConvergesInEveryOrderLateRingingNeverOverwritesCompleted},
			{"RecordCallReturnsTheMergedCall", s.recordCallReturnsTheMergedCall},
			{"RecordCallInvalidNamesFieldAndWritesNothing", s.recordCallInvalidNamesFieldAndWritesNothing},
			{"RecordCallInvalidLeavesExistingCallUnchanged", s.recordCallInvalidLeavesExistingCallUnchanged},
			{"RecordCallTheDatabaseRefusesIsErrInvalidNeverTransient", s.recordCallTheDatabaseRefusesIsErrInvalidNeverTransient},
			{"CallMissingIsErrNotFound", s.callMissingIsErrNotFound},
			{"CallsBetweenHalfOpenOrderedByTimeProviderID", s.callsBetweenHalfOpenOrderedByTimeProviderID},
			{"CallsBetweenFilesCallUnderEarliestEventTime", s.callsBetweenFilesCallUnderEarliestEventTime},
			{"CallsBetweenFilesTimelessCallWhenFirstRecorded", s.callsBetweenFilesTimelessCallWhenFirstRecorded},
			{"CallsBeforeCountsTheCallersEarlierCallsOnly", s.callsBeforeCountsTheCallersEarlierCallsOnly},
		}},
		{"CallRecords", []testCase{
			{"PutCallRecordWritesEveryPart", s.putCallRecordWritesEveryPart},
			{"PutCallRecordWithoutCallerOrConversionWritesNeither", s.putCallRecordWithoutCallerOrConversionWritesNeither},
			{"PutCallRecordIsAllOrNothing", s.putCallRecordIsAllOrNothing},
			{"PutCallRecordInvalidNamesThePart", s.putCallRecordInvalidNamesThePart},
		}},
		{"Attributions", []testCase{
			{"PutAttributionRoundTripsEveryField", s.putAttributionRoundTripsEveryField},
			{"PutAttributionReplacesPreviousForSameCall", s.putAttributionReplacesPreviousForSameCall},
			{"PutAttributionInvalidNamesFieldAndWritesNothing", s.putAttributionInvalidNamesFieldAndWritesNothing},
			{"AttributionMissingIsErrNotFound", s.attributionMissingIsErrNotFound},
		}},
		{"Identities", []testCase{
			{"LinkTwoUnknownMakesOnePerson", s.linkTwoUnknownMakesOnePerson},
			{"LinkUnknownJoinsKnownPerson", s.linkUnknownJoinsKnownPerson},
			{"LinkMergeKeepsOlderPersonIDAndBothHistories", s.linkMergeKeepsOlderPersonIDAndBothHistories},
			{"LinkTwiceIsNoOp", s.linkTwiceIsNoOp},
			{"LinkInvalidIdentifierNamesFieldAndWritesNothing", s.linkInvalidIdentifierNamesFieldAndWritesNothing},
			{"ResolveCreatesOnceAndIsStable", s.resolveCreatesOnceAndIsStable},
			{"PersonOfUnknownIsErrNotFound", s.personOfUnknownIsErrNotFound},
			{"IdentifiersOrderedByKindThenValue", s.identifiersOrderedByKindThenValue},
		}},
		{"Touchpoints", []testCase{
			{"AddTouchpointRoundTripsAndIsIdempotentByID", s.addTouchpointRoundTripsAndIsIdempotentByID},
			{"AddTouchpointSameIDReplaces", s.addTouchpointSameIDReplaces},
			{"AddTouchpointSameIDOtherKindIsErrConflict", s.addTouchpointSameIDOtherKindIsErrConflict},
			{"AddTouchpointInvalidNamesFieldAndWritesNothing", s.addTouchpointInvalidNamesFieldAndWritesNothing},
			{"TouchpointsOfHalfOpenWindowOrderedByTimeThenID", s.touchpointsOfHalfOpenWindowOrderedByTimeThenID},
			{"TouchpointsOfFollowsSessionToVisitor", s.touchpointsOfFollowsSessionToVisitor},
			{"TouchpointsOfUnknownPersonIsEmpty", s.touchpointsOfUnknownPersonIsEmpty},
		}},
		{"Conversions", []testCase{
			{"PutConversionRoundTripsAndRequalifiedCallNeverDuplicates", s.putConversionRoundTripsAndRequalifiedCallNeverDuplicates},
			{"PutConversionSameIDOtherTypeIsErrConflict", s.putConversionSameIDOtherTypeIsErrConflict},
			{"PutConversionInvalidNamesFieldAndWritesNothing", s.putConversionInvalidNamesFieldAndWritesNothing},
			{"ConversionsBetweenHalfOpenOrderedByTimeThenID", s.conversionsBetweenHalfOpenOrderedByTimeThenID},
			{"ConversionsOfPersonByVisitorAndSessionOrderedByTimeThenID", s.conversionsOfPersonByVisitorAndSessionOrderedByTimeThenID},
		}},
		{"Journeys", []testCase{
			{"JourneysBetweenCoversConvertingAndOpenJourneysWithoutWriting", s.journeysBetweenCoversConvertingAndOpenJourneysWithoutWriting},
			{"JourneysBetweenHalfOpenWithInclusiveLookback", s.journeysBetweenHalfOpenWithInclusiveLookback},
			{"JourneysBetweenFindsTheConversionsPersonThroughItsSession", s.journeysBetweenFindsTheConversionsPersonThroughItsSession},
		}},
		{"Retention", []testCase{
			{"DeleteBeforeRemovesEverythingOlderKeepsNewerAndOpenHolds", s.deleteBeforeRemovesEverythingOlderKeepsNewerAndOpenHolds},
			{"DeleteBeforeJudgesSessionWithoutLastSeenByStart", s.deleteBeforeJudgesSessionWithoutLastSeenByStart},
			{"DeleteBeforeKeepsWhatEndsAtTheCutoff", s.deleteBeforeKeepsWhatEndsAtTheCutoff},
			{"ErasePersonRemovesEveryLinkedIDAndEverythingKeyedByThem", s.erasePersonRemovesEveryLinkedIDAndEverythingKeyedByThem},
			{"ErasePersonUnknownIsNoOp", s.erasePersonUnknownIsNoOp},
		}},
		{"Concurrency", []testCase{
			{"ParallelCallbacksOfOneCallLoseNoUpdate", s.parallelCallbacksOfOneCallLoseNoUpdate},
			{"ParallelLinksToOnePersonLoseNoIdentifier", s.parallelLinksToOnePersonLoseNoIdentifier},
			{"ParallelHoldStartAndEndConverge", s.parallelHoldStartAndEndConverge},
			{"ParallelSessionBatchesAllLand", s.parallelSessionBatchesAllLand},
		}},
	}
	if s.features.Outbox {
		gs = append(gs, group{"Outbox", []testCase{
			{"EnqueueRoundTripsPendingInUTCAndRepeatChangesNothing", s.enqueueRoundTripsPendingInUTCAndRepeatChangesNothing},
			{"EnqueueIgnoresDeliveryState", s.enqueueIgnoresDeliveryState},
			{"EnqueueZeroTimesMeanNowAndDueAtOnce", s.enqueueZeroTimesMeanNowAndDueAtOnce},
			{"EnqueueInvalidNamesFieldAndWritesNothing", s.enqueueInvalidNamesFieldAndWritesNothing},
			{"PutConversionWithOutboxWritesBothAndRequalifyingSendsNothingNew", s.putConversionWithOutboxWritesBothAndRequalifyingSendsNothingNew},
			{"PutConversionWithOutboxIsAllOrNothing", s.putConversionWithOutboxIsAllOrNothing},
			{"ClaimTakesDuePendingInDueOrderUpToLimitAndLeasesThem", s.claimTakesDuePendingInDueOrderUpToLimitAndLeasesThem},
			{"ExpiredLeaseIsClaimedAgainWithANewClaim", s.expiredLeaseIsClaimedAgainWithANewClaim},
			{"ParallelClaimsNeverShareAMessage", s.parallelClaimsNeverShareAMessage},
			{"MarkDeliveredAlwaysWinsIsFinalAndIdempotent", s.markDeliveredAlwaysWinsIsFinalAndIdempotent},
			{"MarkDeliveredTurnsDeadIntoDelivered", s.markDeliveredTurnsDeadIntoDelivered},
			{"MarkFailedRetriesOrDeadLettersForTheHoldingClaimOnly", s.markFailedRetriesOrDeadLettersForTheHoldingClaimOnly},
			{"RequeueMakesDeadPendingAgainButNotDelivered", s.requeueMakesDeadPendingAgainButNotDelivered},
			{"RequeuePendingResetsAttemptsAndDueTime", s.requeuePendingResetsAttemptsAndDueTime},
			{"UnknownIDIsErrNotFound", s.unknownIDIsErrNotFound},
			{"OutboxOfConversionOrderedBySinkThenID", s.outboxOfConversionOrderedBySinkThenID},
			{"OutboxByStateMostRecentlyUpdatedFirstUpToLimit", s.outboxByStateMostRecentlyUpdatedFirstUpToLimit},
			{"DeleteBeforeDeletesFinishedMessagesNotOwedOnes", s.deleteBeforeDeletesFinishedMessagesNotOwedOnes},
			{"ErasePersonDeletesTheErasedConversionsMessages", s.erasePersonDeletesTheErasedConversionsMessages},
		}})
	}
	return gs
}
