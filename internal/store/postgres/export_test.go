package postgres

// StatsEpoch and StatsStatus are the dialect's parts of the charts' query, for the plan test.
const (
	StatsEpoch  = statsEpoch
	StatsStatus = statsStatus
)
