// Package assess tells the attacker's calls from the legitimate workload's
// in an investigation of a leaked key.
package assess
