// Package archtest holds no code: its test checks the import graph of pkid
// against the rules of the house (see README, Layout), so that a change
// that breaks a layer boundary fails CI rather than waiting for review.
package archtest
