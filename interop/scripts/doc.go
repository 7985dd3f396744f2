// Package scripts runs the clients that are not Go, the Python hvac and
// JavaScript node-vault scripts of interop/, against an in-process pkid.
// The test is the package; there is no library here.
package scripts
