// Package wmlog sends Watermill's log lines through zap, so that the bus, the
// outbox router and the broker publishers log in the service's format, at its
// level, and never at a level Watermill's chatter does not deserve.
package wmlog
