// Package hostile holds the hostile-traffic suite: one test file per class
// of attack a stranger can make on /cxml and the admin API without any
// credentials, each driving the whole gateway in-process on SQLite and on
// PostgreSQL, over loopback only, bounded in count and time. Each test
// repeats an attack that worked before the defence it checks (the issue
// that asked for the suite gives the figures), and fails without it.
package hostile
