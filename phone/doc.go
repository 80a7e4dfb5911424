// Package phone is calltrack's one policy for telephone numbers: how a
// number from a webhook or from configuration is read, what counts as a
// storable E.164 number, and how one is written for people.
//
// Every other package (provider adapters, pool, journey, store, dni) goes
// through here, so a number one of them accepts is a number all of them
// accept. phone is a leaf: it imports nothing else of calltrack.
//
// # One rule
//
// A number is accepted when it has a country calling code that exists, its
// E.164 form has at most 15 digits (E.164's own limit, which stores enforce
// with [IsE164]), and its length is possible for its country according to
// libphonenumber (github.com/nyaruka/phonenumbers). [Parse] and
// [Normalize] apply that rule to numbers from the wire; [ParseValid] adds
// two checks for numbers a host configures (strict syntax and a number its
// country actually assigns). Whatever [Normalize] or [Parse] returns,
// [IsE164] accepts; FuzzNormalize holds the package to that.
//
// # Withheld caller ids
//
// Providers report a withheld caller as "anonymous", "Restricted", an
// empty string or a keypad spelling such as Twilio's "+266696687"
// (ANONYMOUS). None of them is a dialable number: [Normalize] returns ""
// for all of them and [Parse] an error wrapping [ErrNotANumber] or
// [ErrImpossible].
//
// # Speed
//
// Webhooks nearly always carry international digits ("+14155550100" or
// Vonage's "14155550100"). Those are checked against the numbering plan's
// possible lengths without libphonenumber's parser, whose regular
// expressions cost tens of microseconds per number; the parser runs only
// for formatted or national input.
//
// # Formatting
//
// [National] and [International] write an E.164 number the way people
// read it. They run libphonenumber's formatting patterns, which are slow:
// cache the result where a number is shown repeatedly.
package phone
