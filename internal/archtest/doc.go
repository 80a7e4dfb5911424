// Package archtest holds tests of the library's architecture: rules that
// hold across packages and that no single package's tests can check.
package archtest
