// Package attribution credits conversions to the touchpoints (visits,
// calls, chats, forms) that led to them, by rule-based and data-driven
// multi-touch attribution models, in integer minor units that add up
// exactly.
//
// # Input and options
//
// A [Journey] is one person's touchpoints and the [touch.Conversion]
// they ended in, or none. [Options] are shared by every model:
//
//   - Lookback: touchpoints more than 90 days ([DefaultLookback]) before
//     the conversion do not count; for a journey that did not convert the
//     window ends at its last counted touchpoint.
//   - Kinds: session, call, chat and form count ([DefaultKinds]); custom
//     and conversion touchpoints do not unless named. Touchpoints after
//     the conversion never count.
//   - Key: the group credit is reported under: [ByChannel] (default),
//     [BySourceMedium], [ByCampaign] or any [KeyFunc]; an empty key is
//     [UnknownKey].
//   - Currency: a report is in one currency. Conversions in another are
//     rejected with [ErrCurrency]; [SplitByCurrency] makes one input per
//     currency.
//
// Touchpoints are ordered by time; equal times keep their input order.
// A journey with neither touchpoints nor a conversion ([ErrEmptyJourney]),
// a conversion whose value is negative ([ErrInvalidValue]) and an empty
// input ([ErrNoJourneys]) are errors. A conversion without value still
// counts: its conversions are credited, its value is zero. A converting
// journey none of whose touchpoints count (or that has none, such as a
// call no session explains) is reported in [Result].Unattributed, so that
// credited plus unattributed value is always the conversions' value.
//
// # Exact credit
//
// Each model gives every counted touchpoint a weight; a conversion's
// value is split in proportion by the largest-remainder method: every
// part gets the floor of its quota and the units left over go to the
// largest fractional remainders, the earlier touchpoint first on a tie.
// The parts of a conversion therefore sum to its value exactly, and
// fractional conversion counts sum to one. [Result] holds the credit per
// touchpoint ([TouchCredit]) and per key ([GroupCredit]); [Compare] runs
// several models for a side-by-side report.
//
// # Rule-based models
//
//   - [FirstTouch], [LastTouch]: everything to the first or last counted
//     touchpoint.
//   - [LastNonDirect]: everything to the last touchpoint whose channel is
//     not Direct; to the last touchpoint when all are Direct (GA4).
//     Direct is the touchpoint's channel whatever Key groups by; the
//     credit is reported under the key. On grouped paths, which keep
//     only keys, a step is direct when its key is "Direct".
//   - [Linear]: equal parts to every touchpoint; a channel seen twice
//     earns two parts.
//   - [TimeDecay]: weight 2^(−age/half-life), age measured from the
//     touchpoint to the conversion, half-life 7 days by default; with Step
//     the age is counted in whole half-lives (weekly steps).
//   - [PositionBased] (U-shaped): 40 % first, 40 % last, 20 % shared by
//     the touchpoints between; one touchpoint gets everything, two get
//     half each.
//   - [WShaped]: 30 % each to the first touchpoint, the lead-creation
//     touchpoint and the opportunity-creation touchpoint, 10 % shared by
//     the rest. [FullPath]: 22.5 % each to those three and the closing
//     (last) touchpoint, 10 % to the rest. These follow Marketo Measure.
//     [Milestones] identify the lead touch (default [IsLeadTouch]: the
//     first call, chat or form) and the opportunity touch (default
//     [IsOpportunityTouch]: the first touchpoint, at or after the lead,
//     marked Attrs["opportunity"]="true", or a call marked
//     Attrs["qualified"]="true"). Degenerate journeys: a milestone that
//     is missing gives its share to the milestones that are present; a
//     touchpoint holding several milestones adds their shares; with no
//     other touchpoints the milestones take the whole value in
//     proportion.
//
// # Markov chain removal effect
//
// [Markov] follows Anderl et al. (2016) and ChannelAttribution: every
// journey, converting or not, is a walk from a start state through
// channel states to a conversion or a null state. Transition
// probabilities are the observed transition counts divided by the
// departures from each state. At order k a state holds k channels, by
// one of two definitions ([StateDefinition]):
//
//   - [StatesWithPrefixes] (default): consecutive repeats of a channel
//     collapse first (A > A > B is A > B), then a state is the last k
//     channels, fewer at the start of a path.
//   - [StatesChannelAttribution], ChannelAttribution's markov_model: a
//     state is a window of k consecutive channels of the path as given,
//     repeats included, starting with the first k; consecutive identical
//     windows are one state.
//
// At order 1 both give the same answer, and repeats never matter: a
// repeat is a self-transition, which delays a walk without changing where
// it ends. From order 2 on they differ only on repeated channels:
// ChannelAttribution remembers a repeat (A > B > B walks A>B, B>B) and
// the default forgets it (A > B); without repeats the answers are the
// same, the prefix states only splitting the first step. KeepRepeats
// keeps every step of a path in the chain; with the default states it
// gives ChannelAttribution's answer.
//
// P(conv), the probability of reaching conversion from the start, is
// computed exactly by solving the absorbing chain, not by simulation: the
// states are split into strongly connected components, solved in
// reverse topological order, small components by Gaussian elimination
// and large ones by Gauss–Seidel to a relative change of 1e-15. The
// removal effect of channel c is 1 − P(conv | c removed)/P(conv), where
// removing c sends every state holding c to null. Each channel is
// credited (removal effect / sum of removal effects) × total conversions,
// and the same share of the total value; with [ValueByLastState] the
// value share instead comes from the removal effects on the expected
// conversion value, each state carrying the mean value of the
// conversions that followed it (ChannelAttribution's treatment of
// values). Groups hold these model totals, with the removal effect as
// Score. Touchpoints show each conversion's own value split over its
// touchpoints by their channels' removal effects (a channel seen twice
// shares its weight); they sum to the groups only on average.
//
// # Shapley value
//
// [Shapley] treats channels as players of a cooperative game over all
// journeys. With [WorthConversions] (default) a coalition S is worth the
// conversions (for value credit, the value) of the journeys whose set of
// channels lies within S; Zhao, Mahboobi and Bagheri (2018, "Shapley
// Value Methods for Attribution Modeling in Online Advertising") show
// that its Shapley value is exactly Σ over channel sets T holding c of
// conversions(T)/|T|: each conversion is shared equally by the distinct
// channels of its journey. That needs one pass and has no channel limit.
// With [WorthConversionRate] a coalition is worth the conversion rate of
// the journeys within it, so non-converting journeys count against the
// channels they touched; its Shapley value is computed by enumerating
// all 2^n coalitions, at most 20 channels by default (MaxChannels, never
// above 26), beyond which [ErrTooManyChannels] asks for coarser keys.
// [OrderedShapley] is Zhao et al.'s ordered variant: the same credit
// broken down by touchpoint position, each occurrence of a channel in a
// journey taking an equal part of the channel's share at its own
// position ([PositionCredit]).
//
// # Grouped paths
//
// Data-driven models learn from journeys grouped by identical path, a
// [PathSet]; [GroupPaths] builds one from journeys, and [ReadPathsCSV] and
// [PathSet.WriteCSV] read and write ChannelAttribution's format (path with
// " > " between channels, total_conversions, total_conversion_value,
// total_null), so another implementation can be run on the same file.
// The reader takes ';' or ',' between fields, whichever the header uses
// (ChannelAttribution's example file has ';'); its counts may be
// fractional, and are kept as weights; its values are decimal numbers
// turned into minor units by [PathsCSV].ValueScale (1 by default, as
// WriteCSV writes them; 100 for a file in dollars) and rounded. Models
// that implement [PathModel] (first, last, last non-direct and linear
// touch, Markov, Shapley, ordered Shapley) attribute a PathSet directly.
//
// # Benchmarks
//
// The benchmarks generate the anchor workload in the repository (1,000,000
// journeys, 12 channels, mean 4 touchpoints, about 5 % converting):
//
//	go test -run '^$' -bench Anchor -benchmem ./journey/attribution/
//
// BenchmarkPathsFile reads a grouped paths file in ChannelAttribution's
// layout and runs its anchors' models; CALLTRACK_PATHS_FILE names the
// file of the comparison in docs/benchmarks.md:
//
//	CALLTRACK_PATHS_FILE=paths-1m.csv go test -run '^$' -bench PathsFile ./journey/attribution/
//
// and the internal/cmd/attribench command writes it as files (grouped
// paths in ChannelAttribution's format, and one line per journey) and
// times one model on the grouped file as a whole process:
//
//	go run ./journey/attribution/internal/cmd/attribench -gen DIR
//	go run ./journey/attribution/internal/cmd/attribench -paths DIR/paths.csv -model markov3
package attribution
