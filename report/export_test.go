package report

// FixtureModel is the test fixture, for the tests of package report_test.
var FixtureModel = fixtureModel
