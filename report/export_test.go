package report

// FixtureModel is the test fixture, for the tests of package report_test.
var FixtureModel = fixtureModel

// FixtureEvents is the number of events of the fixture.
var FixtureEvents = len(fixtureEvents())

// FixtureAt is a time of the fixture's day.
var FixtureAt = at
